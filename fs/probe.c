/* probe.c — the file-manager probe names (see probe.h). */
#include "fs/probe.h"

#include <string.h>

static const char *const junk[] = {
	".hidden",	 ".DS_Store",	  ".Trash",	     "desktop.ini",  "Desktop.ini",
	".directory",	 "autorun.inf",	  "AUTORUN.INF",     ".thumbnails",  ".sh_thumbnails",
	"Thumbs.db",	 ".xdg-volume-info", ".localized",   ".Spotlight-V100",
	".fseventsd",	 ".metadata_never_index", ".VolumeIcon.icns", ".autorun",
	".git",		 "folder.jpg",	  ".comments",	     ".Trashes",
};

bool probe_is_junk(const char *name)
{
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		if (strcmp(name, junk[i]) == 0)
			return true;
	/* .Trash-<uid>: the per-user trash of the freedesktop spec. */
	if (strncmp(name, ".Trash-", 7) == 0 && name[7]) {
		const char *p = name + 7;
		while (*p >= '0' && *p <= '9')
			p++;
		if (*p == '\0')
			return true;
	}
	/* AppleDouble companions "._foo". */
	if (name[0] == '.' && name[1] == '_' && name[2])
		return true;
	return false;
}

bool probe_is_snapshot_name(const char *name)
{
	return name[0] >= '0' && name[0] <= '9';
}
