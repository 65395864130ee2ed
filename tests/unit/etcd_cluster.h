/*
 * etcd_cluster: real etcd members for the store conformance suite, started
 * from Debian's etcd-server in a temporary directory on free loopback ports,
 * stopped by pid.
 */
#ifndef TABBY_TEST_ETCD_CLUSTER_H
#define TABBY_TEST_ETCD_CLUSTER_H

#include <stdbool.h>
#include <sys/types.h>

#define ETCD_MAX_MEMBERS 3

struct etcd_cluster {
	char dir[64];
	int n;
	pid_t pid[ETCD_MAX_MEMBERS];
	int client_port[ETCD_MAX_MEMBERS], peer_port[ETCD_MAX_MEMBERS];
	char url[256]; /* etcd://127.0.0.1:P1,127.0.0.1:P2,... */
	char initial[512];
};

/* Starts n members and waits until the cluster answers; -1 with a message on stderr. */
int etcd_cluster_start(struct etcd_cluster *c, int n);
/* The member the others follow, or -1. */
int etcd_cluster_leader(struct etcd_cluster *c);
/* SIGKILLs one member (it stays down). */
void etcd_cluster_kill(struct etcd_cluster *c, int member);
/* Starts a killed member again on its data; -1 when it does not answer within 10 s. */
int etcd_cluster_restart(struct etcd_cluster *c, int member);
void etcd_cluster_stop(struct etcd_cluster *c);

#endif
