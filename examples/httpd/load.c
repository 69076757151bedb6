/*
 * A load generator for the httpd bench, for Linux (or any POSIX host): CONC keep-alive
 * connections to HOST:PORT, each sending `GET PATH` again as soon as the previous response
 * (head + Content-Length bytes) is in, for SECONDS, in one poll(2) loop. Bodies are counted,
 * not kept. Prints `load: {"requests":N,"bytes":B,"bad":X,"seconds":S}` (bad: responses
 * that were not 200) and exits 0, or 1 when a connection failed or broke.
 *
 *   load HOST PORT PATH SECONDS CONC
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONC 256

struct client {
	int fd;
	char head[8192];
	size_t head_len;
	long long body_left; /* -1 while the head is still coming */
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return 0;
		p += w;
		n -= (size_t)w;
	}
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: load HOST PORT PATH SECONDS CONC\n");
		return 2;
	}
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[2])) };
	double seconds = atof(argv[4]);
	int conc = atoi(argv[5]);
	if (inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1 || seconds <= 0 || conc < 1 || conc > MAX_CONC) {
		fprintf(stderr, "load: bad HOST (an IPv4 address), SECONDS or CONC (1..%d)\n", MAX_CONC);
		return 2;
	}
	char req[1200];
	int req_len = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", argv[3], argv[1]);
	if (req_len < 0 || (size_t)req_len >= sizeof(req))
		return 2;

	static struct client cl[MAX_CONC];
	static struct pollfd pfd[MAX_CONC];
	for (int i = 0; i < conc; i++) {
		int one = 1;
		cl[i].fd = socket(AF_INET, SOCK_STREAM, 0);
		if (cl[i].fd < 0 || connect(cl[i].fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
			printf("load: {\"error\":\"connect: %s\"}\n", strerror(errno));
			return 1;
		}
		setsockopt(cl[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		cl[i].body_left = -1;
		if (!send_all(cl[i].fd, req, (size_t)req_len))
			return 1;
	}
	long long requests = 0, bytes = 0, bad = 0;
	static char buf[256 * 1024];
	double t0 = now_s(), end = t0 + seconds;
	int open_conns = conc;
	while (open_conns > 0) {
		for (int i = 0; i < conc; i++) {
			pfd[i].fd = cl[i].fd;
			pfd[i].events = POLLIN;
		}
		if (poll(pfd, (nfds_t)conc, 10000) <= 0) {
			printf("load: {\"error\":\"no response for 10 s\"}\n");
			return 1;
		}
		for (int i = 0; i < conc; i++) {
			struct client *c = &cl[i];
			if (c->fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
			if (n <= 0) {
				printf("load: {\"error\":\"connection %d ended: %s\"}\n", i, n ? strerror(errno) : "closed");
				return 1;
			}
			size_t off = 0;
			while (off < (size_t)n) {
				if (c->body_left < 0) {
					size_t take = (size_t)n - off;
					if (take > sizeof(c->head) - 1 - c->head_len)
						take = sizeof(c->head) - 1 - c->head_len;
					memcpy(c->head + c->head_len, buf + off, take);
					c->head_len += take;
					c->head[c->head_len] = 0;
					char *e = strstr(c->head, "\r\n\r\n");
					if (e == NULL) {
						if (c->head_len >= sizeof(c->head) - 1)
							return 1;
						off += take;
						continue;
					}
					size_t used = (size_t)(e + 4 - c->head) - (c->head_len - take);
					const char *cl_hdr = strcasestr(c->head, "\r\nContent-Length:");
					c->body_left = cl_hdr ? atoll(cl_hdr + 17) : 0;
					if (strncmp(c->head, "HTTP/1.1 200 ", 13) != 0)
						bad++;
					c->head_len = 0;
					off += used;
				}
				long long take = (long long)n - (long long)off;
				if (take > c->body_left)
					take = c->body_left;
				c->body_left -= take;
				bytes += take;
				off += (size_t)take;
				if (c->body_left == 0) {
					requests++;
					c->body_left = -1;
					if (now_s() < end) {
						if (!send_all(c->fd, req, (size_t)req_len))
							return 1;
					} else {
						close(c->fd);
						c->fd = -1;
						open_conns--;
						break;
					}
				}
			}
		}
	}
	printf("load: {\"requests\":%lld,\"bytes\":%lld,\"bad\":%lld,\"seconds\":%.3f}\n", requests, bytes,
	    bad, now_s() - t0);
	return 0;
}
