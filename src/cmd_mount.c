/* cmd_mount.c — ckptfs mount: every snapshot as a read-only folder. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/mount.h"
#include "src/cli.h"
#include "src/commands.h"
#include "src/output.h"
#include "store/repo.h"

static const char usage_text[] =
	"usage: ckptfs mount MOUNTPOINT [-f] [-o OPTIONS] [--cache-size SIZE]\n"
	"\n"
	"Show every snapshot of every project under MOUNTPOINT, read-only:\n"
	"MOUNTPOINT/<project>/<snapshot>/..., MOUNTPOINT/<project>/latest and\n"
	"MOUNTPOINT/<project>/@tags/<tag>.  New snapshots appear within a second.\n"
	"Returns once the mount is ready; it is served in the background until\n"
	"'ckptfs umount MOUNTPOINT'.\n"
	"\n"
	"  -f, --foreground       serve in this process, errors on stderr; Ctrl-C unmounts\n"
	"  -o OPTIONS             comma-separated: allow_other (other users may read;\n"
	"                         needs user_allow_other in /etc/fuse.conf),\n"
	"                         cache_size=SIZE, debug (FUSE trace, with -f)\n"
	"      --cache-size SIZE  decoded-chunk cache, e.g. 256M or 1G (default 16M)\n"
	"  -h, --help             this help\n";

/* "65536", "64K", "64M", "1G", "1GiB" (binary units). */
static int parse_size(const char *s, size_t *ret)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || s[0] == '-')
		return -EINVAL;
	unsigned shift = 0;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	default: break;
	}
	if (shift && (!strcmp(end, "iB") || !strcmp(end, "B")))
		end += strlen(end);
	if (*end || v > (SIZE_MAX >> shift))
		return -EINVAL;
	*ret = (size_t)v << shift;
	return 0;
}

static int parse_size_opt(const char *what, const char *s, size_t *ret)
{
	size_t v;
	if (parse_size(s, &v) < 0 || v < ((size_t)1 << 20))
		return cli_usage_error("mount", "%s '%s': not a size of at least 1M", what, s);
	*ret = v;
	return 0;
}

/* -o a,b=c,... */
static int parse_o(char *list, struct fs_mount_opts *o)
{
	char *save = NULL;
	for (char *opt = strtok_r(list, ",", &save); opt; opt = strtok_r(NULL, ",", &save)) {
		if (!strcmp(opt, "allow_other")) {
			o->allow_other = true;
		} else if (!strncmp(opt, "cache_size=", 11)) {
			int r = parse_size_opt("cache_size", opt + 11, &o->cache_bytes);
			if (r)
				return r;
		} else if (!strcmp(opt, "debug")) {
			o->debug = true;
		} else if (!strcmp(opt, "ro") || !strcmp(opt, "nosuid") || !strcmp(opt, "nodev") ||
			   !strcmp(opt, "noatime") || !strcmp(opt, "default_permissions")) {
			/* always on */
		} else {
			return cli_usage_error("mount", "-o %s: unknown mount option", opt);
		}
	}
	return 0;
}

int cmd_mount(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"foreground", no_argument, NULL, 'f'},
		{"cache-size", required_argument, NULL, 'C'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct fs_mount_opts o = { 0 };
	int c, r;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":fo:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': o.foreground = true; break;
		case 'o':
			if ((r = parse_o(optarg, &o)) != 0)
				return r;
			break;
		case 'C':
			if ((r = parse_size_opt("--cache-size", optarg, &o.cache_bytes)) != 0)
				return r;
			break;
		case 'h': fputs(usage_text, stdout); return EXIT_OK;
		default: return cli_bad_option("mount", c, optopt, argv, optind);
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("mount", "give one MOUNTPOINT");
	o.mountpoint = argv[optind];
	if (o.debug && !o.foreground)
		return cli_usage_error("mount", "-o debug needs -f");

	r = fs_mount_check(o.mountpoint);
	if (r < 0)
		return out_store_err(r, "mount");
	/* Fail here, with the CLI's message, if there is no repository; the
	 * serving process opens its own connection. */
	struct repo *repo = NULL;
	r = cli_open_repo(REPO_READ, &repo);
	if (r < 0)
		return out_store_err(r, "repository");
	char *path = strdup(repo_path(repo));
	cli_close_repo(repo, true); /* the mount leaves invalid rows out: say so */
	if (!path) {
		out_err("mount: out of memory");
		return EXIT_ERROR;
	}
	o.repo_path = path;
	r = fs_mount_run(&o);
	free(path);
	if (r < 0)
		return out_store_err(r, "mount");
	return EXIT_OK;
}
