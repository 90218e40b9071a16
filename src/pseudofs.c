/* pseudofs.c — telling kernel pseudo file systems (see pseudofs.h). */
#include "src/pseudofs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>

#include "store/err.h"

#define TMPFS_MAGIC_ 0x01021994L

/* From linux/magic.h (not all of them are in every kernel's headers). */
static const struct {
	long magic;
	const char *name;
} pseudo[] = {
	{0x9fa0, "proc"},
	{0x62656572, "sysfs"},
	{0x27e0eb, "cgroup"},
	{0x63677270, "cgroup2"},
	{0x64626720, "debugfs"},
	{0x73636673, "securityfs"},
	{0x6165676c, "pstore"},
	{(long)0xcafe4a11, "bpf"},
	{0x74726163, "tracefs"},
	{0x62656570, "configfs"},
	{0x65735543, "fusectl"},
	{0x19800202, "mqueue"},
	{(long)0x958458f6, "hugetlbfs"},
	{0x1cd1, "devpts"},
	{(long)0xde5e81e4, "efivarfs"},
	{(long)0xf97cff8c, "selinuxfs"},
	{0x43415d53, "smackfs"},
	{0x42494e4d, "binfmt_misc"},
	{0x6e736673, "nsfs"},
	{0x7655821, "resctrl"},
	{0x6c6f6f70, "binderfs"},
	{0x0187, "autofs"},
};

/* Whether the mount of device dev is a devtmpfs (mountinfo's third field
 * is the st_dev of the mount, the type follows " - "). */
static bool is_devtmpfs(dev_t dev)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return false;
	char line[4096];
	bool found = false;
	while (!found && fgets(line, sizeof line, f)) {
		unsigned maj, min;
		if (sscanf(line, "%*u %*u %u:%u", &maj, &min) != 2 || maj != major(dev) ||
		    min != minor(dev))
			continue;
		const char *sep = strstr(line, " - ");
		found = sep && !strncmp(sep + 3, "devtmpfs ", 9);
	}
	fclose(f);
	return found;
}

const char *pseudofs_name(long f_type, dev_t dev)
{
	/* f_type is a signed long filled from a 32-bit value: compare the
	 * low 32 bits so 0xcafe4a11 matches on every ABI. */
	unsigned long t = (unsigned long)f_type & 0xffffffffUL;
	for (size_t i = 0; i < sizeof pseudo / sizeof pseudo[0]; i++)
		if (t == ((unsigned long)pseudo[i].magic & 0xffffffffUL))
			return pseudo[i].name;
	if (t == (unsigned long)TMPFS_MAGIC_ && is_devtmpfs(dev))
		return "devtmpfs";
	return NULL;
}

int pseudofs_refuse(const char *path)
{
	struct statfs sfs;
	struct stat st;
	if (statfs(path, &sfs) < 0 || stat(path, &st) < 0)
		return store_failp(-errno, "%s", path);
	const char *name = pseudofs_name((long)sfs.f_type, st.st_dev);
	if (name)
		return store_fail(-EXDEV,
				  "%s: is on a %s file system (kernel state, not files); not a "
				  "project root",
				  path, name);
	return 0;
}
