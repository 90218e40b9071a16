/* retcfg.h — the retention and trash settings a user or a project
 * configures, for `forget --policy`, the trash window and the scheduled
 * run.
 *
 * Files (store/toml_lite.h's TOML subset):
 *   $XDG_CONFIG_HOME/ckptfs/config.toml (else ~/.config/ckptfs/config.toml)
 *     [retention]          the default policy of every project
 *     [retention.NAME]     the policy of project NAME (wins over everything)
 *     [trash] days = N     the trash window, 1..3650 days (default 7)
 *   PROJECT/.ckptfs.toml
 *     [retention]          the project's own policy (wins over config.toml's
 *                          [retention], not over [retention.NAME])
 * A retention table's keys: keep_last, keep_hourly, keep_daily,
 * keep_weekly, keep_monthly, keep_yearly (a count, or "unlimited"),
 * keep_within and keep_within_hourly/_daily/_weekly/_monthly/_yearly (a
 * duration string: "2d", "36h"), keep_tag (a string or an array of
 * them).  The most specific table that has keys is the policy, whole: its
 * keys are not merged with another table's.  No table: the built-in
 * default (retention_policy_default).  An unknown key, a bad value or a
 * table whose rules are all 0 is an error naming the file and line.
 * config.toml's [retention] may also say auto = false: the scheduled run
 * does not forget by policy (sched.c).
 */
#ifndef CKPTFS_SRC_RETCFG_H
#define CKPTFS_SRC_RETCFG_H

#include <stdbool.h>
#include <stddef.h>

#include "store/catalog.h"
#include "store/retention.h"

struct retcfg {
	int days;          /* trash window */
	bool has_retention; /* config.toml has a [retention] table with keys */
	bool auto_forget;  /* [retention] auto (default: has_retention) */
	char *file;        /* config.toml's path (NULL: no HOME/XDG_CONFIG_HOME) */
	char *text;        /* its text, NULL when there is none */
	size_t len;
};

/* A policy and the strings it points at. */
struct retcfg_policy {
	struct retention_policy policy;
	char **tags;
	char *source; /* "built-in default", "FILE [retention.NAME]" (may be NULL) */
};

/* Read and check config.toml (absent: the defaults).  *ret is filled
 * (retcfg_clear it); on error the message names file and line. */
int retcfg_load(struct retcfg *ret);
void retcfg_clear(struct retcfg *c);

/* The policy for project p (rules above).  *ret is filled (clear it with
 * retcfg_policy_clear, also after a failure). */
int retcfg_policy(const struct retcfg *c, const struct project *p, struct retcfg_policy *ret);
void retcfg_policy_clear(struct retcfg_policy *p);

#endif
