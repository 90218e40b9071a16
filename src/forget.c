/* forget.c — the policy's verdict on a project's snapshots (forget.h). */
#include "src/forget.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "src/duration.h"
#include "store/err.h"

#define NS 1000000000LL

unsigned forget_row_flags(const struct snapshot *s)
{
	/* Set by watch.c and cmd_run.c, not by a person. */
	static const char *const automatic[] = {"watch", "run", "run-after"};
	unsigned f = 0;
	if (s->tag && *s->tag) {
		f |= RETENTION_ROW_TAGGED;
		for (size_t i = 0; i < sizeof automatic / sizeof automatic[0]; i++)
			if (strcmp(s->tag, automatic[i]) == 0)
				f &= ~RETENTION_ROW_TAGGED;
	}
	/* cmd_restore.c and restore_db.c write these messages. */
	if (s->message && strncmp(s->message, "before restore ", 15) == 0)
		f |= RETENTION_ROW_SAFETY;
	return f;
}

int forget_plan_make(struct repo *repo, const struct project *p,
		     const struct retention_policy *policy, struct forget_plan *ret)
{
	struct forget_plan plan = {0};
	struct retention_row *rows = NULL;
	int r = catalog_snapshots(repo, p->id, &plan.snaps, &plan.n);
	if (r < 0)
		return r;
	plan.kept = calloc(plan.n ? plan.n : 1, sizeof *plan.kept);
	rows = calloc(plan.n ? plan.n : 1, sizeof *rows);
	plan.project = (struct project){.id = p->id, .name = strdup(p->name),
					.root = strdup(p->root)};
	if (!plan.kept || !rows || !plan.project.name || !plan.project.root) {
		r = store_fail(-ENOMEM, "forget: out of memory");
		goto fail;
	}
	for (size_t i = 0; i < plan.n; i++)
		rows[i] = (struct retention_row){.time_ns = plan.snaps[i].time_ns,
						 .tag = plan.snaps[i].tag,
						 .flags = forget_row_flags(&plan.snaps[i])};
	/* The catalog lists newest first by (time, id); equal times are
	 * fine for retention_apply. */
	if ((r = retention_apply(policy, rows, plan.n, plan.kept)) < 0) {
		r = store_fail(r, "forget: project %s: the snapshots are not in time order", p->name);
		goto fail;
	}
	for (size_t i = 0; i < plan.n; i++)
		plan.ngo += plan.kept[i] == 0;
	free(rows);
	*ret = plan;
	return 0;
fail:
	free(rows);
	forget_plan_clear(&plan);
	return r;
}

void forget_plan_clear(struct forget_plan *plan)
{
	if (!plan)
		return;
	project_clear(&plan->project);
	snapshots_free(plan->snaps, plan->n);
	free(plan->kept);
	memset(plan, 0, sizeof *plan);
}

int forget_parse_count(const char *s, int64_t *ret)
{
	if (strcmp(s, "unlimited") == 0) {
		*ret = RETENTION_UNLIMITED;
		return 0;
	}
	char *end;
	errno = 0;
	long long n = strtoll(s, &end, 10);
	if (end == s || *end || errno || n < 0 || s[0] == '+' || s[0] == '-')
		return -EINVAL;
	*ret = n;
	return 0;
}

int forget_parse_within(const char *s, int64_t *ret_ns)
{
	int64_t secs;
	if (dur_parse(s, &secs) < 0)
		return -EINVAL;
	*ret_ns = secs * NS; /* DUR_MAX_S (100 years) fits */
	return 0;
}
