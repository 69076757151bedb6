/*
 * A small HTTP/1.1 file server in plain C against the NetBSD API: one thread, one poll(2)
 * loop, non-blocking sockets. GET and HEAD, keep-alive, Content-Length, index.html or a
 * directory listing, 400 for a malformed request line, 403 for a path with a ".." segment,
 * 404 for a missing one. Clients that go away mid-transfer cost their connection only: every
 * send uses MSG_NOSIGNAL and each connection SO_NOSIGPIPE where there is one, so the kernel
 * returns EPIPE instead of raising SIGPIPE. That matters in a DomU: the rump kernel's default
 * signal model hands SIGPIPE to rumpuser_kill, which on rumpxen ends the domain (libc's
 * signal(SIGPIPE, SIG_IGN), called too, is known only to the layer under libc).
 *
 *   httpd [-p PORT] [-r ROOT] [-d DISK] static ADDR/PREFIX    (Xen DomU, NetBSD's libc)
 *   httpd [-p PORT] [-r ROOT] [-d DISK] dhcp
 *   httpd [-p PORT] [-r ROOT] host                            (any POSIX host, e.g. Linux)
 *
 * In a DomU (built with __NetBSD__ by the image-linker's `"libc": "netbsd"`), `static` and
 * `dhcp` first create virt0 on the domain's vif 0 and configure it (librumpnet_config), then
 * register the vbd DISK (default /dev/xvda) with etfs and mount its FFS read-only on ROOT
 * (default /www). `host` serves ROOT as it is, on the host's own interfaces. Either way the
 * last start-up line is `httpd: serving ROOT on http://ADDR:PORT/`.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef __NetBSD__
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <net/if.h>
#include <netinet/in_var.h>
#include <ufs/ufs/ufsmount.h>

/* librumpnet_config (buildrump.sh's brlib/libnetconfig): each returns 0 or an errno. */
int rump_pub_netconfig_ifcreate(const char *name);
int rump_pub_netconfig_ifup(const char *name);
int rump_pub_netconfig_ipv4_ifaddr_cidr(const char *name, const char *addr, int prefix);
int rump_pub_netconfig_dhcp_ipv4_oneshot(const char *name);
/* The rump kernel's etfs: makes the host path (here a Xen vbd) the device node key. */
int rump_pub_etfs_register(const char *key, const char *hostpath, int type);
#define ETFS_BLK 1 /* RUMP_ETFS_BLK */
#endif

#define MAX_CONNS 128
#define IN_SIZE 8192
#define OUT_SIZE (64 * 1024)
#define IDLE_MS (60 * 1000)

enum conn_state { CONN_FREE, CONN_READING, CONN_WRITING };

struct conn {
	enum conn_state state;
	int fd;
	char in[IN_SIZE];
	size_t in_len;
	/* The response: head (and a generated body) from out, then the file body from file_fd. */
	char *out;
	size_t out_cap, out_len, out_sent;
	int file_fd;
	off_t file_left;
	int keep_alive;
	int close_after; /* an error response: close once it is sent */
	long last_ms;
};

struct server {
	const char *root;
	int listen_fd;
	struct conn conns[MAX_CONNS];
	unsigned long requests, aborted;
	int verbose;
};

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int set_nonblocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Appends to the connection's output buffer, growing it; 0 when out of memory. */
static int out_put(struct conn *c, const char *p, size_t n)
{
	if (c->out_len + n > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : OUT_SIZE;
		while (cap < c->out_len + n)
			cap *= 2;
		char *q = realloc(c->out, cap);
		if (q == NULL)
			return 0;
		c->out = q;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, p, n);
	c->out_len += n;
	return 1;
}

static int out_printf(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int out_printf(struct conn *c, const char *fmt, ...)
{
	char buf[2048]; /* a head line, a Location of up to 1000 bytes included */
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return 0;
	return out_put(c, buf, (size_t)n);
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 301: return "Moved Permanently";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

static const char *content_type(const char *path)
{
	const char *dot = strrchr(path, '.');
	if (dot == NULL || strchr(dot, '/') != NULL)
		return "application/octet-stream";
	static const char *const types[][2] = {
		{ ".html", "text/html; charset=utf-8" }, { ".htm", "text/html; charset=utf-8" },
		{ ".txt", "text/plain; charset=utf-8" }, { ".css", "text/css" },
		{ ".js", "text/javascript" }, { ".json", "application/json" },
		{ ".png", "image/png" }, { ".jpg", "image/jpeg" }, { ".svg", "image/svg+xml" },
	};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i][0]) == 0)
			return types[i][1];
	return "application/octet-stream";
}

static void head(struct conn *c, int status, const char *type, off_t length, const char *extra)
{
	out_printf(c, "HTTP/1.1 %d %s\r\nServer: rumpxen-httpd\r\nContent-Type: %s\r\n"
	    "Content-Length: %lld\r\nConnection: %s\r\n%s\r\n", status, reason(status), type,
	    (long long)length, c->keep_alive ? "keep-alive" : "close", extra ? extra : "");
}

/* A short HTML error page; a request that could not be read (400, 414, 431, 5xx) ends the connection. */
static void error_response(struct conn *c, int status, int is_head)
{
	char body[160];
	int n = snprintf(body, sizeof(body), "<html><body><h1>%d %s</h1></body></html>\n",
	    status, reason(status));
	if (status == 400 || status == 414 || status == 431 || status >= 500)
		c->keep_alive = 0;
	head(c, status, "text/html; charset=utf-8", n, NULL);
	if (!is_head)
		out_put(c, body, (size_t)n);
}

/* Escapes s for HTML text and attribute values. */
static void out_html(struct conn *c, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': out_put(c, "&lt;", 4); break;
		case '>': out_put(c, "&gt;", 4); break;
		case '&': out_put(c, "&amp;", 5); break;
		case '"': out_put(c, "&quot;", 6); break;
		default: out_put(c, s, 1);
		}
	}
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A directory listing of fs (URL path url, ending in '/'), names sorted, subfolders with '/'. */
static int listing(struct conn *c, const char *fs, const char *url, int is_head)
{
	DIR *d = opendir(fs);
	if (d == NULL)
		return errno == ENOENT ? 404 : 403;
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			char **q = realloc(names, cap * sizeof(*names));
			if (q == NULL)
				break;
			names = q;
		}
		char path[1024];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", fs, e->d_name);
		int dir = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
		size_t len = strlen(e->d_name);
		names[n] = malloc(len + 2);
		if (names[n] == NULL)
			break;
		memcpy(names[n], e->d_name, len);
		strcpy(names[n] + len, dir ? "/" : "");
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), name_cmp);

	/* The body goes after a head whose length is not known yet: build it, then move it. */
	size_t start = c->out_len;
	out_put(c, "<!DOCTYPE html>\n<html><head><title>Index of ", 44);
	out_html(c, url);
	out_put(c, "</title></head><body>\n<h1>Index of ", 35);
	out_html(c, url);
	out_put(c, "</h1>\n<ul>\n", 11);
	for (size_t i = 0; i < n; i++) {
		out_put(c, "<li><a href=\"", 13);
		out_html(c, names[i]);
		out_put(c, "\">", 2);
		out_html(c, names[i]);
		out_put(c, "</a></li>\n", 10);
		free(names[i]);
	}
	free(names);
	out_put(c, "</ul>\n</body></html>\n", 21);
	size_t body_len = c->out_len - start;
	char *body = malloc(body_len ? body_len : 1);
	if (body == NULL)
		return 500;
	memcpy(body, c->out + start, body_len);
	c->out_len = start;
	head(c, 200, "text/html; charset=utf-8", (off_t)body_len, NULL);
	if (!is_head)
		out_put(c, body, body_len);
	free(body);
	return 200;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/*
 * The request target as a file system path under root: query dropped, %XX decoded, empty and
 * "." segments skipped. 400 for a target that is not an absolute path or decodes to a NUL,
 * 403 for a ".." segment, 414 when too long; 0 when fine.
 */
static int map_target(const char *root, const char *target, char *fs, size_t fs_size,
    int *trailing_slash)
{
	if (target[0] != '/')
		return 400;
	char dec[1024];
	size_t n = 0;
	for (const char *p = target; *p && *p != '?' && *p != '#'; p++) {
		char ch = *p;
		if (ch == '%') {
			int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return 400;
			ch = (char)(hi << 4 | lo);
			p += 2;
		}
		if (n + 1 >= sizeof(dec))
			return 414;
		dec[n++] = ch;
	}
	dec[n] = 0;
	*trailing_slash = n > 0 && dec[n - 1] == '/';
	size_t len = strlen(root);
	if (len + 1 >= fs_size)
		return 414;
	memcpy(fs, root, len + 1);
	for (char *seg = dec, *next; seg != NULL; seg = next) {
		next = strchr(seg, '/');
		if (next)
			*next++ = 0;
		if (*seg == 0 || strcmp(seg, ".") == 0)
			continue;
		if (strcmp(seg, "..") == 0)
			return 403;
		size_t sl = strlen(seg);
		if (len + 1 + sl + 1 > fs_size)
			return 414;
		fs[len++] = '/';
		memcpy(fs + len, seg, sl + 1);
		len += sl;
	}
	return 0;
}

/* Sets up the response to one request (the head ends at in[head_len]). */
static void respond(struct server *s, struct conn *c, size_t head_len)
{
	char req[IN_SIZE];
	memcpy(req, c->in, head_len);
	req[head_len] = 0;
	s->requests++;
	c->keep_alive = 0;
	c->out_len = c->out_sent = 0;

	/* Request line: METHOD SP TARGET SP HTTP/1.x CRLF, nothing else. */
	char *eol = strstr(req, "\r\n");
	*eol = 0;
	char *method = req, *sp1 = strchr(req, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (sp1 == NULL || sp2 == NULL || strchr(sp2 + 1, ' ') != NULL || sp1 == method ||
	    sp2 == sp1 + 1) {
		error_response(c, 400, 0);
		return;
	}
	*sp1 = *sp2 = 0;
	char *target = sp1 + 1, *version = sp2 + 1;
	if (strncmp(version, "HTTP/", 5) != 0 || strlen(version) != 8 || version[6] != '.' ||
	    version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9') {
		error_response(c, 400, 0);
		return;
	}
	if (version[5] != '1') {
		error_response(c, 505, 0);
		return;
	}
	for (const char *m = method; *m; m++) {
		if (*m < 'A' || *m > 'Z') {
			error_response(c, 400, 0);
			return;
		}
	}
	int is_head = strcmp(method, "HEAD") == 0;
	/* HTTP/1.1 keeps the connection unless told to close; 1.0 only when asked to keep it. */
	c->keep_alive = version[7] != '0';
	for (char *line = eol + 2; *line; ) {
		char *end = strstr(line, "\r\n");
		if (end == NULL)
			break;
		*end = 0;
		if (strncasecmp(line, "Connection:", 11) == 0) {
			const char *v = line + 11;
			while (*v == ' ' || *v == '\t')
				v++;
			if (strncasecmp(v, "close", 5) == 0)
				c->keep_alive = 0;
			else if (strncasecmp(v, "keep-alive", 10) == 0)
				c->keep_alive = 1;
		}
		line = end + 2;
	}
	if (!is_head && strcmp(method, "GET") != 0) {
		head(c, 405, "text/plain; charset=utf-8", 0, "Allow: GET, HEAD\r\n");
		return;
	}

	char fs[1100];
	int slash = 0;
	int status = map_target(s->root, target, fs, sizeof(fs), &slash);
	if (status) {
		error_response(c, status, is_head);
		goto done;
	}
	struct stat st;
	if (stat(fs, &st) != 0) {
		error_response(c, errno == ENOENT || errno == ENOTDIR ? 404 : 403, is_head);
		status = 404;
		goto done;
	}
	if (S_ISDIR(st.st_mode)) {
		if (!slash) {
			char loc[1200];
			size_t tl = strcspn(target, "?#");
			snprintf(loc, sizeof(loc), "Location: %.*s/\r\n", (int)(tl < 1000 ? tl : 1000), target);
			head(c, 301, "text/plain; charset=utf-8", 0, loc);
			status = 301;
			goto done;
		}
		size_t fl = strlen(fs);
		if (fl + sizeof("/index.html") <= sizeof(fs)) {
			strcpy(fs + fl, "/index.html");
			if (stat(fs, &st) != 0 || !S_ISREG(st.st_mode)) {
				fs[fl] = 0;
				status = listing(c, fs, target, is_head);
				if (status != 200)
					error_response(c, status, is_head);
				goto done;
			}
		}
	}
	if (!S_ISREG(st.st_mode)) {
		error_response(c, 403, is_head);
		status = 403;
		goto done;
	}
	int fd = open(fs, O_RDONLY);
	if (fd < 0) {
		error_response(c, errno == ENOENT ? 404 : 403, is_head);
		status = 403;
		goto done;
	}
	head(c, 200, content_type(fs), st.st_size, NULL);
	status = 200;
	if (is_head || st.st_size == 0) {
		close(fd);
	} else {
		c->file_fd = fd;
		c->file_left = st.st_size;
	}
done:
	if (s->verbose)
		printf("httpd: %s %s %d\n", method, target, status);
}

static void conn_close(struct conn *c)
{
	if (c->file_fd >= 0)
		close(c->file_fd);
	close(c->fd);
	free(c->out);
	c->out = NULL;
	c->out_cap = c->out_len = c->out_sent = 0;
	c->file_fd = -1;
	c->state = CONN_FREE;
}

/*
 * Looks for a whole request head in the input; answers it (state WRITING) or waits for more.
 * A head that does not fit is answered with 431 and the connection closed.
 */
static void try_request(struct server *s, struct conn *c)
{
	char *end = NULL;
	for (size_t i = 0; i + 3 < c->in_len; i++) {
		if (memcmp(c->in + i, "\r\n\r\n", 4) == 0) {
			end = c->in + i;
			break;
		}
	}
	if (end == NULL) {
		/* A request line alone that is already malformed need not wait for the rest. */
		if (c->in_len >= IN_SIZE - 1) {
			c->keep_alive = 0;
			c->out_len = c->out_sent = 0;
			error_response(c, 431, 0);
			c->close_after = 1;
			c->state = CONN_WRITING;
			c->in_len = 0;
		}
		return;
	}
	size_t head_len = (size_t)(end - c->in) + 2; /* through the last header's CRLF */
	respond(s, c, head_len);
	size_t used = head_len + 2;
	memmove(c->in, c->in + used, c->in_len - used);
	c->in_len -= used;
	c->close_after = !c->keep_alive;
	c->state = CONN_WRITING;
}

/* Sends what it can; 0 when the connection is finished or broken. */
static int conn_write(struct server *s, struct conn *c)
{
	for (;;) {
		if (c->out_sent == c->out_len && c->file_fd >= 0 && c->file_left > 0) {
			if (c->out_cap < OUT_SIZE) {
				char *q = realloc(c->out, OUT_SIZE);
				if (q == NULL)
					return 0;
				c->out = q;
				c->out_cap = OUT_SIZE;
			}
			size_t want = c->file_left < (off_t)c->out_cap ? (size_t)c->file_left : c->out_cap;
			ssize_t n = read(c->file_fd, c->out, want);
			if (n <= 0)
				return 0; /* the file shrank or failed: the length promised cannot be kept */
			c->out_len = (size_t)n;
			c->out_sent = 0;
			c->file_left -= n;
		}
		if (c->out_sent == c->out_len) {
			if (c->file_fd >= 0) {
				close(c->file_fd);
				c->file_fd = -1;
			}
			c->out_len = c->out_sent = 0;
			if (c->close_after)
				return 0;
			c->state = CONN_READING;
			/* A pipelined request may already be waiting. */
			try_request(s, c);
			if (c->state == CONN_READING)
				return 1;
			continue;
		}
		ssize_t n = send(c->fd, c->out + c->out_sent, c->out_len - c->out_sent, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 1;
			if (errno == EPIPE || errno == ECONNRESET) {
				s->aborted++;
				printf("httpd: a client left mid-response (%s); %lu so far\n",
				    strerror(errno), s->aborted);
			}
			return 0;
		}
		c->out_sent += (size_t)n;
	}
}

/* Reads what is there; 0 when the peer closed or the connection broke. */
static int conn_read(struct server *s, struct conn *c)
{
	for (;;) {
		if (c->in_len >= IN_SIZE - 1) {
			try_request(s, c);
			return 1;
		}
		ssize_t n = recv(c->fd, c->in + c->in_len, IN_SIZE - 1 - c->in_len, 0);
		if (n == 0)
			return 0;
		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		c->in_len += (size_t)n;
		try_request(s, c);
		if (c->state != CONN_READING)
			return 1;
	}
}

static void accept_all(struct server *s)
{
	for (;;) {
		int fd = accept(s->listen_fd, NULL, NULL);
		if (fd < 0)
			return;
		struct conn *c = NULL;
		for (int i = 0; i < MAX_CONNS; i++) {
			if (s->conns[i].state == CONN_FREE) {
				c = &s->conns[i];
				break;
			}
		}
		int one = 1;
		if (c == NULL || set_nonblocking(fd) != 0) {
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
#ifdef SO_NOSIGPIPE
		/* Besides MSG_NOSIGNAL: no write on this socket may raise SIGPIPE (see the README). */
		setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof(one));
#endif
		c->fd = fd;
		c->state = CONN_READING;
		c->in_len = 0;
		c->file_fd = -1;
		c->close_after = 0;
		c->last_ms = now_ms();
	}
}

static int serve(struct server *s)
{
	static struct pollfd pfd[MAX_CONNS + 1];
	static int idx[MAX_CONNS + 1];
	for (;;) {
		int n = 0;
		pfd[n].fd = s->listen_fd;
		pfd[n].events = POLLIN;
		idx[n++] = -1;
		for (int i = 0; i < MAX_CONNS; i++) {
			struct conn *c = &s->conns[i];
			if (c->state == CONN_FREE)
				continue;
			pfd[n].fd = c->fd;
			pfd[n].events = c->state == CONN_READING ? POLLIN : POLLOUT;
			idx[n++] = i;
		}
		int r = poll(pfd, (nfds_t)n, 1000);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			perror("httpd: poll");
			return 1;
		}
		long now = now_ms();
		for (int k = 1; k < n; k++) {
			struct conn *c = &s->conns[idx[k]];
			int ok = 1;
			if (pfd[k].revents & (POLLIN | POLLOUT | POLLHUP | POLLERR)) {
				c->last_ms = now;
				ok = c->state == CONN_READING ? conn_read(s, c) : 1;
				if (ok && c->state == CONN_WRITING)
					ok = conn_write(s, c);
			} else if (now - c->last_ms > IDLE_MS) {
				ok = 0;
			}
			if (!ok)
				conn_close(c);
		}
		if (pfd[0].revents & POLLIN)
			accept_all(s);
	}
}

#ifdef __NetBSD__
/*
 * Waits until virt0's address addr has passed duplicate address detection: NetBSD keeps a new
 * IPv4 address tentative for a few seconds (net.inet.ip.dad_count probes) and answers no ARP
 * for it meanwhile, so a client would get EHOSTUNREACH. 0 on a duplicate or after 30 s.
 */
static int wait_dad(int sk, const char *addr)
{
	struct ifreq ifr;
	for (int i = 0; i < 300; i++) {
		memset(&ifr, 0, sizeof(ifr));
		strlcpy(ifr.ifr_name, "virt0", sizeof(ifr.ifr_name));
		struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
		sin->sin_len = sizeof(*sin);
		sin->sin_family = AF_INET;
		inet_pton(AF_INET, addr, &sin->sin_addr);
		if (ioctl(sk, SIOCGIFAFLAG_IN, &ifr) != 0) {
			perror("httpd: SIOCGIFAFLAG_IN virt0");
			return 0;
		}
		if (ifr.ifr_addrflags & IN_IFF_DUPLICATED) {
			fprintf(stderr, "httpd: virt0 %s: another host on the link has that address\n", addr);
			return 0;
		}
		if (!(ifr.ifr_addrflags & (IN_IFF_TENTATIVE | IN_IFF_TRYTENTATIVE))) {
			printf("httpd: virt0 %s usable after %d ms of duplicate address detection\n", addr, i * 100);
			return 1;
		}
		usleep(100 * 1000);
	}
	fprintf(stderr, "httpd: virt0 %s: still tentative after 30 s\n", addr);
	return 0;
}

/* virt0 on vif 0: a static ADDR/PREFIX, or DHCP; prints the address. */
static int net_up(const char *mode, const char *cidr, char *addr, size_t addr_size)
{
	int rv = rump_pub_netconfig_ifcreate("virt0");
	if (rv == 0)
		rv = rump_pub_netconfig_ifup("virt0");
	if (rv != 0) {
		fprintf(stderr, "httpd: virt0 (the domain's vif 0): %s; does the domain have a vif?\n",
		    strerror(rv));
		return 0;
	}
	if (strcmp(mode, "static") == 0) {
		const char *slash = strchr(cidr, '/');
		int prefix = slash ? atoi(slash + 1) : -1;
		size_t al = slash ? (size_t)(slash - cidr) : 0;
		if (prefix < 1 || prefix > 32 || al == 0 || al >= addr_size) {
			fprintf(stderr, "httpd: static %s: expected ADDR/PREFIX, e.g. 10.77.0.2/24\n", cidr);
			return 0;
		}
		memcpy(addr, cidr, al);
		addr[al] = 0;
		rv = rump_pub_netconfig_ipv4_ifaddr_cidr("virt0", addr, prefix);
		if (rv != 0) {
			fprintf(stderr, "httpd: virt0 %s: %s\n", cidr, strerror(rv));
			return 0;
		}
		printf("httpd: virt0 %s\n", cidr);
		int sk = socket(AF_INET, SOCK_DGRAM, 0);
		int ok = sk >= 0 && wait_dad(sk, addr);
		close(sk);
		return ok;
	}
	rv = rump_pub_netconfig_dhcp_ipv4_oneshot("virt0");
	if (rv != 0) {
		fprintf(stderr, "httpd: virt0: DHCP failed: %s\n", strerror(rv));
		return 0;
	}
	/* Read back what the DHCP client set. */
	int sk = socket(AF_INET, SOCK_DGRAM, 0);
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	strlcpy(ifr.ifr_name, "virt0", sizeof(ifr.ifr_name));
	if (sk < 0 || ioctl(sk, SIOCGIFADDR, &ifr) != 0) {
		perror("httpd: SIOCGIFADDR virt0");
		return 0;
	}
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	inet_ntop(AF_INET, &sin->sin_addr, addr, (socklen_t)addr_size);
	char mask[INET_ADDRSTRLEN] = "?";
	if (ioctl(sk, SIOCGIFNETMASK, &ifr) == 0)
		inet_ntop(AF_INET, &sin->sin_addr, mask, sizeof(mask));
	printf("httpd: virt0 dhcp address %s netmask %s\n", addr, mask);
	int ok = wait_dad(sk, addr);
	close(sk);
	return ok;
}

/* The vbd disk as a block device, its FFS mounted read-only on root. */
static int mount_disk(const char *disk, const char *root)
{
	int rv = rump_pub_etfs_register(disk, disk, ETFS_BLK);
	if (rv != 0) {
		fprintf(stderr, "httpd: disk %s: %s; does the domain have that vbd?\n", disk, strerror(rv));
		return 0;
	}
	if (mkdir(root, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "httpd: mkdir %s: %s\n", root, strerror(errno));
		return 0;
	}
	struct ufs_args args = { .fspec = (char *)(uintptr_t)disk };
	if (mount(MOUNT_FFS, root, MNT_RDONLY, &args, sizeof(args)) != 0) {
		fprintf(stderr, "httpd: mount of the FFS on %s at %s: %s (an image from `image-linker mkfs`?)\n",
		    disk, root, strerror(errno));
		return 0;
	}
	printf("httpd: mounted %s (ffs, read-only) on %s\n", disk, root);
	return 1;
}
#endif

static void usage(void)
{
	fprintf(stderr,
	    "usage: httpd [-v] [-p PORT] [-r ROOT] [-d DISK] static ADDR/PREFIX | dhcp | host\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static struct server s;
	const char *disk = "/dev/xvda";
	int port = 80;
	s.root = "/www";
	int ch;
	while ((ch = getopt(argc, argv, "vp:r:d:")) != -1) {
		switch (ch) {
		case 'v': s.verbose = 1; break;
		case 'p': port = atoi(optarg); break;
		case 'r': s.root = optarg; break;
		case 'd': disk = optarg; break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || port < 1 || port > 65535)
		usage();
	const char *mode = argv[0];
	char addr[INET_ADDRSTRLEN] = "0.0.0.0";
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (strcmp(mode, "host") == 0) {
		if (argc != 1)
			usage();
	} else if ((strcmp(mode, "static") == 0 && argc == 2) || (strcmp(mode, "dhcp") == 0 && argc == 1)) {
#ifdef __NetBSD__
		if (!net_up(mode, argv[1], addr, sizeof(addr)) || !mount_disk(disk, s.root))
			return 1;
#else
		(void)disk;
		fprintf(stderr, "httpd: %s: interface and disk set-up is for a rumpxen DomU; use host\n", mode);
		return 2;
#endif
	} else {
		usage();
	}

	s.listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(s.listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	if (s.listen_fd < 0 || bind(s.listen_fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(s.listen_fd, 64) != 0 || set_nonblocking(s.listen_fd) != 0) {
		fprintf(stderr, "httpd: port %d: %s\n", port, strerror(errno));
		return 1;
	}
	for (int i = 0; i < MAX_CONNS; i++)
		s.conns[i].file_fd = -1;
	printf("httpd: serving %s on http://%s:%d/\n", s.root, addr, port);
	return serve(&s);
}
