/* docker_probe.c — is a database in a container reachable (docker.h). */
#include "dumpers/docker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dumpers/proc.h"
#include "dumpers/server.h"

/* A daemon over TCP that does not answer must not hold up the snapshot
 * for long; a local one answers in milliseconds. */
#define PROBE_TIMEOUT_MS 20000

bool dumper_target_in_docker(const struct dumper_target *t)
{
	return t->container || t->service;
}

const char *dumper_docker_where(const struct dumper_target *t, char *buf, size_t n)
{
	if (t->container)
		snprintf(buf, n, "container %s", t->container);
	else
		snprintf(buf, n, "compose service %s", t->service ? t->service : "?");
	return buf;
}

static bool has(const char *s, const char *needle)
{
	return s && strcasestr(s, needle);
}

enum dumper_docker_state dumper_docker_judge_daemon(const char *err, char *why, size_t n)
{
	if (has(err, "permission denied")) {
		snprintf(why, n, "the Docker daemon refused this user (permission denied on its socket)");
		return DOCKER_UNREACHABLE;
	}
	if (has(err, "cannot connect to the docker daemon") || has(err, "is the docker daemon running") ||
	    has(err, "error during connect") || has(err, "connection refused") ||
	    has(err, "no such file or directory") || has(err, "no such host") ||
	    has(err, "i/o timeout")) {
		snprintf(why, n, "the Docker daemon is not reachable");
		return DOCKER_UNREACHABLE;
	}
	/* Whatever else stops `docker info`, the service cannot be reached
	 * through it: a skip with docker's first line, never its usage. */
	char line[160];
	dumper_first_line(err, line, sizeof line);
	if (has(line, "usage") || !*line)
		snprintf(why, n, "the Docker daemon is not usable");
	else
		snprintf(why, n, "the Docker daemon is not usable: %s", line);
	return DOCKER_UNREACHABLE;
}

enum dumper_docker_state dumper_docker_judge_inspect(bool ok, const char *out, const char *err,
						     char *why, size_t n)
{
	if (ok && out && !strncmp(out, "true", 4))
		return DOCKER_READY;
	if (ok) {
		snprintf(why, n, "not running");
		return DOCKER_NOT_RUNNING;
	}
	if (has(err, "no such object") || has(err, "no such container")) {
		snprintf(why, n, "no such container (not created on this machine)");
		return DOCKER_NOT_RUNNING;
	}
	return dumper_docker_judge_daemon(err, why, n);
}

bool dumper_docker_lists(const char *out, const char *service)
{
	size_t sl = strlen(service);
	for (const char *p = out ? out : ""; *p;) {
		size_t n = strcspn(p, "\r\n");
		if (n == sl && !memcmp(p, service, sl))
			return true;
		p += n;
		p += strspn(p, "\r\n");
	}
	return false;
}

/* Run argv; its result in *ret (cleared by the caller). */
static int run(char **argv, const char *cwd, struct dumper_proc_out *ret)
{
	return dumper_proc_run(argv, NULL, cwd, PROBE_TIMEOUT_MS, ret);
}

static int set(struct dumper_docker_probe *p, enum dumper_docker_state s, const char *why)
{
	p->state = s;
	snprintf(p->why, sizeof p->why, "%s", why);
	return 0;
}

/* Which compose: 0 with p->compose_v1 set, or the state why none. */
static int find_compose(struct dumper_docker_probe *p, bool docker)
{
	if (docker) {
		char *argv[] = {"docker", "compose", "version", NULL};
		struct dumper_proc_out o = {0};
		int r = run(argv, NULL, &o);
		bool v2 = r == 0 && dumper_proc_ok(&o);
		dumper_proc_out_clear(&o);
		if (r < 0)
			return r;
		if (v2)
			return 0;
	}
	if (dumper_in_path("docker-compose")) {
		p->compose_v1 = true;
		return 0;
	}
	if (!docker)
		return set(p, DOCKER_NOT_INSTALLED, "Docker is not installed (no docker on PATH)");
	return set(p, DOCKER_NO_COMPOSE,
		   "docker compose is not installed (neither the compose plugin nor docker-compose)");
}

static int probe_daemon(struct dumper_docker_probe *p)
{
	char *argv[] = {"docker", "info", "--format", "{{.ServerVersion}}", NULL};
	struct dumper_proc_out o = {0};
	int r = run(argv, NULL, &o);
	if (r == 0 && !dumper_proc_ok(&o)) {
		if (o.timed_out)
			set(p, DOCKER_UNREACHABLE, "the Docker daemon did not answer within 20 s");
		else
			p->state = dumper_docker_judge_daemon(o.err, p->why, sizeof p->why);
	}
	dumper_proc_out_clear(&o);
	return r;
}

static int probe_container(const struct dumper_target *t, struct dumper_docker_probe *p)
{
	char *argv[] = {"docker", "inspect", "--type=container", "--format", "{{.State.Running}}",
			t->container, NULL};
	struct dumper_proc_out o = {0};
	int r = run(argv, NULL, &o);
	if (r == 0)
		p->state = dumper_docker_judge_inspect(dumper_proc_ok(&o), o.out, o.err, p->why,
						       sizeof p->why);
	dumper_proc_out_clear(&o);
	return r;
}

static int probe_service(const struct dumper_target *t, const char *root,
			 struct dumper_docker_probe *p)
{
	char *file = NULL;
	if (asprintf(&file, "--file=%s/%s", root, t->compose ? t->compose : "compose.yaml") < 0)
		return -ENOMEM;
	char *v2[] = {"docker", "compose", file, "ps", "--services", "--status", "running", NULL};
	char *v1[] = {"docker-compose", file, "ps", "--services", "--filter", "status=running", NULL};
	struct dumper_proc_out o = {0};
	int r = run(p->compose_v1 ? v1 : v2, root, &o);
	if (r == 0) {
		if (dumper_proc_ok(&o)) {
			if (!dumper_docker_lists(o.out, t->service))
				set(p, DOCKER_NOT_RUNNING, "not running");
		} else if (o.timed_out) {
			set(p, DOCKER_UNREACHABLE, "the Docker daemon did not answer within 20 s");
		} else {
			enum dumper_docker_state s = dumper_docker_judge_daemon(o.err, p->why, sizeof p->why);
			if (s == DOCKER_UNREACHABLE && !strstr(p->why, "usable")) {
				p->state = s;
			} else {
				/* The daemon answers but compose refuses (a bad
				 * compose file, say): an error, in its words. */
				char line[160];
				dumper_first_line(o.err, line, sizeof line);
				p->state = DOCKER_FAILED;
				snprintf(p->why, sizeof p->why, "%s ps: %s",
					 p->compose_v1 ? "docker-compose" : "docker compose",
					 *line ? line : "failed");
			}
		}
	}
	dumper_proc_out_clear(&o);
	free(file);
	return r;
}

int dumper_docker_probe(const struct dumper_target *t, const char *root,
			struct dumper_docker_probe *ret)
{
	struct dumper_docker_probe p = {.state = DOCKER_READY};
	bool docker = dumper_in_path("docker");
	int r = 0;
	if (t->service)
		r = find_compose(&p, docker);
	else if (!docker)
		set(&p, DOCKER_NOT_INSTALLED, "Docker is not installed (no docker on PATH)");
	if (r == 0 && p.state == DOCKER_READY && docker)
		r = probe_daemon(&p);
	if (r == 0 && p.state == DOCKER_READY)
		r = t->container ? probe_container(t, &p) : probe_service(t, root, &p);
	if (r < 0)
		return r;
	*ret = p;
	return 0;
}
