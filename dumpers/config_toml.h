/* config_toml.h — .ckptfs.toml, the project's own say over which
 * databases are dumped (dumpers/config_toml.c).  Dumpers-internal. */
#ifndef CKPTFS_DUMPERS_CONFIG_TOML_H
#define CKPTFS_DUMPERS_CONFIG_TOML_H

#include "dumpers/target.h"

/* Apply .ckptfs.toml (see README "Databases"): [databases] auto = false
 * drops everything discovered; [databases.NAME] tables add a target (url,
 * kind, host, port, user, password_env, database, container, service,
 * compose), rename a discovered one (from = "OLDNAME") or disable one
 * (disabled = true).  A syntax error gives -EINVAL with "file:line: why". */
int dumper_config_apply(const char *text, const char *file, struct dumper_targets *ts);

#endif
