/* notify.h — desktop notifications of projects that are stale or failing,
 * for the scheduled run (`ckptfs status --notify`, which ckptfs.service
 * runs after `snap --all`).
 *
 * Sent with notify-send(1), only when a session bus is there
 * ($DBUS_SESSION_BUS_ADDRESS, or $XDG_RUNTIME_DIR/bus), and at most once a
 * day per project and state: <repository>/state/notified.json records
 * when each was last sent.
 */
#ifndef CKPTFS_SRC_NOTIFY_H
#define CKPTFS_SRC_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NOTIFY_EVERY_NS (86400LL * 1000000000LL)

/* Is there a session bus to send to? */
bool notify_have_bus(void);

struct notify_item {
	const char *project, *state, *problem;
};

/* Send what is due among items (now_ns: wall clock) and record it.
 * Returns how many were sent (attempted), or a negative errno when the
 * record cannot be written (message recorded). */
int notify_send_due(const struct notify_item *items, size_t n, int64_t now_ns);

#endif
