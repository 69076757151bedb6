/*
 * The application's argv and environment: the domain's config from xenstore
 * (/local/domain/<id>/rumpxen/cfg, JSON {"argv": ["prog", ...], "env": ["K=V", ...]}),
 * else the start_info command line split at spaces (argv[0] is then "rumpxen"). Other keys
 * ("devices", which lists what the toolstack attached, and keys of later versions) are
 * accepted and skipped: the kernel finds its devices in xenstore's device/ tree.
 */
#ifndef MK_APPCFG_H
#define MK_APPCFG_H
#include <mk/types.h>

#define MK_APP_MAX_ARGS 64
#define MK_APP_MAX_ENV 64

struct mk_app_config {
	int argc;
	char *argv[MK_APP_MAX_ARGS + 1];
	int envc;
	char *envp[MK_APP_MAX_ENV + 1];
	const char *source; /* "xenstore" or "cmdline" */
};

void mk_appcfg_load(struct mk_app_config *cfg);
/* Value of environment variable name from the loaded config, or NULL. */
const char *mk_appcfg_getenv(const char *name);
/* Parses the JSON config text into cfg (strings are copied); false if malformed. */
bool mk_appcfg_parse_json(const char *text, size_t len, struct mk_app_config *cfg);

#endif
