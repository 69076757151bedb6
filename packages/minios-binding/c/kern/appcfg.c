/* Application argv/env from xenstore JSON or the command line; see mk/appcfg.h. */
#include <mk/appcfg.h>
#include <mk/arch.h>
#include <mk/console.h>
#include <mk/lib.h>
#include <mk/mm.h>
#include <mk/xenbus.h>

static struct mk_app_config *loaded;

const char *mk_appcfg_getenv(const char *name)
{
	if (!loaded)
		return NULL;
	size_t n = mk_strlen(name);
	for (int i = 0; i < loaded->envc; i++)
		if (!mk_strncmp(loaded->envp[i], name, n) && loaded->envp[i][n] == '=')
			return loaded->envp[i] + n + 1;
	return NULL;
}

struct json_in {
	const char *p, *end;
};

static void skip_ws(struct json_in *in)
{
	while (in->p < in->end && (*in->p == ' ' || *in->p == '\n' || *in->p == '\t' ||
			*in->p == '\r'))
		in->p++;
}

static bool expect(struct json_in *in, char c)
{
	skip_ws(in);
	if (in->p < in->end && *in->p == c) {
		in->p++;
		return true;
	}
	return false;
}

/* Parses a JSON string into a new buffer; \uXXXX above 0x7f becomes UTF-8. */
static char *parse_string(struct json_in *in)
{
	if (!expect(in, '"'))
		return NULL;
	const char *s = in->p;
	size_t cap = 0;
	while (s < in->end && *s != '"') {
		if (*s == '\\')
			s++;
		s++;
		cap += 3;
	}
	if (s >= in->end)
		return NULL;
	char *out = mk_malloc(cap + 1, 1), *o = out;
	if (!out)
		return NULL;
	while (*in->p != '"') {
		char c = *in->p++;
		if (c == '\\') {
			c = *in->p++;
			switch (c) {
			case 'n': *o++ = '\n'; break;
			case 't': *o++ = '\t'; break;
			case 'r': *o++ = '\r'; break;
			case 'b': *o++ = '\b'; break;
			case 'f': *o++ = '\f'; break;
			case 'u': {
				unsigned v = 0;
				for (int i = 0; i < 4; i++) {
					int h = in->p < in->end ? mk_hex_digit(*in->p++) : -1;
					if (h < 0) {
						mk_free(out);
						return NULL;
					}
					v = v * 16 + (unsigned)h;
				}
				if (v < 0x80) {
					*o++ = (char)v;
				} else if (v < 0x800) {
					*o++ = (char)(0xc0 | (v >> 6));
					*o++ = (char)(0x80 | (v & 0x3f));
				} else {
					*o++ = (char)(0xe0 | (v >> 12));
					*o++ = (char)(0x80 | ((v >> 6) & 0x3f));
					*o++ = (char)(0x80 | (v & 0x3f));
				}
				break;
			}
			default: *o++ = c;
			}
		} else {
			*o++ = c;
		}
	}
	in->p++;
	*o = 0;
	return out;
}

/* Steps over a JSON string without copying it (escapes are stepped over, not checked). */
static bool skip_string(struct json_in *in)
{
	if (!expect(in, '"'))
		return false;
	while (in->p < in->end && *in->p != '"') {
		if (*in->p == '\\' && ++in->p >= in->end)
			return false;
		in->p++;
	}
	if (in->p >= in->end)
		return false;
	in->p++;
	return true;
}

static bool skip_word(struct json_in *in, const char *word)
{
	size_t n = mk_strlen(word);
	if ((size_t)(in->end - in->p) < n || mk_memcmp(in->p, word, n) != 0)
		return false;
	in->p += n;
	return true;
}

/*
 * Skips one JSON value of a key this kernel does not read ("devices", keys of later versions):
 * strings, numbers, true/false/null, and objects and arrays nested at most 16 deep. Nothing
 * is allocated, so a large skipped value cannot make the config fail for want of memory.
 */
static bool skip_value(struct json_in *in, int depth)
{
	skip_ws(in);
	if (in->p >= in->end || depth >= 16)
		return false;
	char c = *in->p;
	if (c == '"')
		return skip_string(in);
	if (c == '{' || c == '[') {
		char close = c == '{' ? '}' : ']';
		in->p++;
		if (expect(in, close))
			return true;
		do {
			if (c == '{' && (!skip_string(in) || !expect(in, ':')))
				return false;
			if (!skip_value(in, depth + 1))
				return false;
		} while (expect(in, ','));
		return expect(in, close);
	}
	if (c == 't')
		return skip_word(in, "true");
	if (c == 'f')
		return skip_word(in, "false");
	if (c == 'n')
		return skip_word(in, "null");
	if (c != '-' && (c < '0' || c > '9'))
		return false;
	in->p++;
	while (in->p < in->end && ((*in->p >= '0' && *in->p <= '9') || *in->p == '.' ||
			*in->p == 'e' || *in->p == 'E' || *in->p == '+' || *in->p == '-'))
		in->p++;
	return true;
}

static bool parse_string_array(struct json_in *in, char **arr, int max, int *count)
{
	if (!expect(in, '['))
		return false;
	*count = 0;
	if (expect(in, ']'))
		return true;
	do {
		char *s = parse_string(in);
		if (!s || *count >= max)
			return false;
		arr[(*count)++] = s;
	} while (expect(in, ','));
	arr[*count] = NULL;
	return expect(in, ']');
}

bool mk_appcfg_parse_json(const char *text, size_t len, struct mk_app_config *cfg)
{
	struct json_in in = { text, text + len };
	cfg->argc = 0;
	cfg->envc = 0;
	if (!expect(&in, '{'))
		return false;
	if (expect(&in, '}'))
		return true;
	do {
		char *key = parse_string(&in);
		if (!key || !expect(&in, ':'))
			return false;
		bool ok;
		if (!mk_strcmp(key, "argv"))
			ok = parse_string_array(&in, cfg->argv, MK_APP_MAX_ARGS, &cfg->argc);
		else if (!mk_strcmp(key, "env"))
			ok = parse_string_array(&in, cfg->envp, MK_APP_MAX_ENV, &cfg->envc);
		else
			ok = skip_value(&in, 0);
		mk_free(key);
		if (!ok)
			return false;
	} while (expect(&in, ','));
	cfg->argv[cfg->argc] = NULL;
	cfg->envp[cfg->envc] = NULL;
	return expect(&in, '}');
}

static void from_cmdline(struct mk_app_config *cfg)
{
	static char line[1024];
	static char prog[] = "rumpxen";
	mk_strlcpy(line, mk_boot.cmdline, sizeof(line));
	cfg->argc = 0;
	cfg->envc = 0;
	cfg->argv[cfg->argc++] = prog;
	char *p = line;
	for (;;) {
		while (*p == ' ')
			p++;
		if (!*p || cfg->argc >= MK_APP_MAX_ARGS)
			break;
		char *word = p;
		while (*p && *p != ' ')
			p++;
		if (*p)
			*p++ = 0;
		/* Leading NAME=VALUE words are environment, like a shell's assignments. */
		if (cfg->argc == 1 && mk_strchr(word, '=') && word[0] != '=' &&
				cfg->envc < MK_APP_MAX_ENV)
			cfg->envp[cfg->envc++] = word;
		else
			cfg->argv[cfg->argc++] = word;
	}
	cfg->argv[cfg->argc] = NULL;
	cfg->envp[cfg->envc] = NULL;
	cfg->source = "cmdline";
}

void mk_appcfg_load(struct mk_app_config *cfg)
{
	loaded = cfg;
	int domid = mk_xenbus_available() ? mk_xs_domid() : -1;
	if (domid >= 0) {
		char path[64], *json;
		size_t len;
		mk_snprintf(path, sizeof(path), "/local/domain/%d/rumpxen/cfg", domid);
		if (mk_xs_read(0, path, &json, &len) == 0) {
			bool ok = mk_appcfg_parse_json(json, len, cfg);
			mk_free(json);
			if (!ok || cfg->argc == 0) {
				/* What a refused config had parsed so far is not used: give it back. */
				for (int i = 0; i < cfg->argc; i++)
					mk_free(cfg->argv[i]);
				for (int i = 0; i < cfg->envc; i++)
					mk_free(cfg->envp[i]);
				cfg->argc = cfg->envc = 0;
			}
			if (ok && cfg->argc > 0) {
				cfg->source = "xenstore";
				return;
			}
			mk_printk("rumpxen: %s is not valid JSON {\"argv\": [...], \"env\": [...]} "
				"with a non-empty argv; using the command line instead\n", path);
		}
	}
	from_cmdline(cfg);
}
