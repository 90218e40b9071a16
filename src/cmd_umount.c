/* cmd_umount.c — ckptfs umount: take a ckptfs mount down. */
#include <getopt.h>
#include <stdio.h>

#include "fs/mount.h"
#include "src/cli.h"
#include "src/commands.h"
#include "src/output.h"

static const char usage_text[] =
	"usage: ckptfs umount MOUNTPOINT\n"
	"\n"
	"Unmount a 'ckptfs mount' and stop the process serving it.\n"
	"\n"
	"  -h, --help   this help\n";

int cmd_umount(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h': fputs(usage_text, stdout); return EXIT_OK;
		default: return cli_bad_option("umount", c, optopt, argv, optind);
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("umount", "give one MOUNTPOINT");
	int r = fs_umount(argv[optind]);
	if (r < 0)
		return out_store_err(r, "umount");
	return EXIT_OK;
}
