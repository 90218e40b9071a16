/* docker.h — is a database in a container reachable right now
 * (dumpers-internal).
 *
 * A compose file names the project's database services whether or not
 * they run on this machine today.  Before a dump through `docker exec` or
 * `docker compose exec`, the probe asks, cheapest first: is the docker
 * command there (or the old docker-compose), is the compose plugin there,
 * does the daemon answer, is the container or service running.  Each "no"
 * is a plain reason for one line ("not running"), never a tool's usage
 * text; only a running service that refuses its dump is an error.
 *
 * What the tools say is judged by the pure functions below, unit tested
 * with the texts real docker prints (a daemon cannot run in the tests).
 */
#ifndef CKPTFS_DUMPERS_DOCKER_H
#define CKPTFS_DUMPERS_DOCKER_H

#include <stdbool.h>

#include "dumpers/target.h"

enum dumper_docker_state {
	DOCKER_READY = 0,      /* running: dump it */
	DOCKER_NOT_INSTALLED,  /* no docker (nor docker-compose) on PATH */
	DOCKER_NO_COMPOSE,     /* docker, but neither `docker compose` nor docker-compose */
	DOCKER_UNREACHABLE,    /* the daemon does not answer (or refuses us) */
	DOCKER_NOT_RUNNING,    /* the container or service is not running */
	DOCKER_FAILED,         /* a probe failed otherwise: an error, not a skip */
};

struct dumper_docker_probe {
	enum dumper_docker_state state;
	bool compose_v1;       /* the service is reached through docker-compose */
	char why[256];         /* the reason, one line: "not running" */
};

/* true if t is dumped through docker (a container or a compose service). */
bool dumper_target_in_docker(const struct dumper_target *t);

/* Probe t (in docker) for the project at root (the compose file is
 * relative to it).  Never fails: problems are in ret.  Returns 0 or
 * -ENOMEM. */
int dumper_docker_probe(const struct dumper_target *t, const char *root,
			struct dumper_docker_probe *ret);

/* "compose service db" or "container pg": what t runs in, for messages. */
const char *dumper_docker_where(const struct dumper_target *t, char *buf, size_t n);

/* ---- judging what docker said (pure) ---- */

/* A failed `docker info`: unreachable (no daemon, socket refused, denied)
 * or something else (DOCKER_FAILED), with the reason in why. */
enum dumper_docker_state dumper_docker_judge_daemon(const char *err, char *why, size_t n);

/* The output of `docker inspect --format {{.State.Running}} C` (exit
 * status ok or not, its stderr): ready, not running, or no such container. */
enum dumper_docker_state dumper_docker_judge_inspect(bool ok, const char *out, const char *err,
						     char *why, size_t n);

/* true if service is one line of `docker compose ps --services` output. */
bool dumper_docker_lists(const char *out, const char *service);

#endif
