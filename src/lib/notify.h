/*
 * notify: the service manager's readiness protocol (sd_notify(3)), by hand: one
 * datagram to the Unix socket named in $NOTIFY_SOCKET. Without the variable it
 * does nothing, so the daemons run the same under systemd and without it.
 */
#ifndef TABBY_NOTIFY_H
#define TABBY_NOTIFY_H

/* Sends state ("READY=1", "STOPPING=1"); 0 when sent or not asked for, -1 on error. */
int notify_send(const char *state);

#endif
