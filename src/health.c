/* health.c — is a project's backup up to date (see health.h). */
#include "src/health.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/duration.h"
#include "src/runlog.h"

#define NS 1000000000LL

const char *health_name(enum health_state s)
{
	static const char *const names[] = {"ok", "stale", "failing", "missing"};
	return names[s];
}

int64_t health_stale_after(int64_t stale_after_s, int64_t every_s)
{
	if (stale_after_s > 0)
		return stale_after_s;
	return every_s > 0 ? 2 * every_s : HEALTH_DEFAULT_STALE_S;
}

int health_judge(const struct health_in *in, struct health *ret)
{
	struct health h = {0};
	char dur[32];
	int n = 0;
	if (!in->root_exists) {
		h.state = HEALTH_MISSING;
		n = asprintf(&h.problem, "root folder no longer exists");
		goto done;
	}
	const struct snapshot *s = in->newest;
	h.stale = !s || in->now_ns - s->time_ns > in->stale_after_s * NS;
	bool run_after = in->run_result && (!s || in->run_time_ns > s->time_ns);
	if (run_after && !strcmp(in->run_result, "failed")) {
		h.failing = true;
		n = asprintf(&h.problem, "last scheduled run failed: %s",
			     in->run_reason ? in->run_reason : "no reason recorded");
	} else if (s && s->status == SNAP_DAMAGED) {
		h.failing = true;
		n = asprintf(&h.problem, "newest snapshot %s is damaged (see ckptfs check)", s->name);
	} else if (s && s->status == SNAP_PARTIAL) {
		h.failing = true;
		char *why = runlog_first_problem(s->notes);
		n = asprintf(&h.problem, "newest snapshot %s is partial: %s", s->name,
			     why ? why : "some paths not stored as they are");
		free(why);
	} else if (h.stale && s) {
		n = asprintf(&h.problem, "newest snapshot older than %s",
			     dur_format(in->stale_after_s, dur));
	} else if (h.stale) {
		n = asprintf(&h.problem, "no snapshot yet");
	}
	h.state = h.failing ? HEALTH_FAILING : h.stale ? HEALTH_STALE : HEALTH_OK;
done:
	if (n < 0)
		return -ENOMEM; /* asprintf left h.problem undefined */
	*ret = h;
	return 0;
}

void health_clear(struct health *h)
{
	free(h->problem);
	h->problem = NULL;
}
