/*
 * libFuzzer target: the state machine fed random event sequences. Whatever
 * the order, it stays in a valid state, never emits more actions than it
 * may, sends a NOTIFICATION only with a connection open, reports a session
 * up only on entering Established and down only on leaving it.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "bgp/fsm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fsm_config cfg;
	struct fsm f;
	struct bgp_notif err;

	fsm_config_default(&cfg);
	if (size > 0)
		cfg.passive = data[0] & 1;
	fsm_init(&f, &cfg);
	bgp_notif_set(&err, BGP_ERR_UPDATE, BGP_UPD_MALFORMED_AS_PATH, NULL, 0);
	for (size_t i = 1; i + 1 < size; i += 2) {
		struct fsm_input in = {
			.ev = fsm_events[data[i] % FSM_NEVENTS],
			.peer_hold_time = data[i + 1] == 1 || data[i + 1] == 2 ? 3 : data[i + 1],
			.notif = (data[i] & 0x80) ? &err : NULL,
			.socket_error = "Connection reset by peer",
		};
		struct fsm_actions acts = {.n = 0};
		enum fsm_state before = f.state;

		fsm_run(&f, &in, &acts);
		assert(f.state <= FSM_ESTABLISHED);
		assert(acts.n < FSM_MAX_ACTIONS);
		assert(f.hold == 0 || f.hold >= 3);
		for (int k = 0; k < acts.n; k++) {
			const struct fsm_action *a = &acts.v[k];

			if (a->type == FSM_ACT_SESSION_UP)
				assert(before == FSM_OPENCONFIRM && f.state == FSM_ESTABLISHED);
			if (a->type == FSM_ACT_SESSION_DOWN)
				assert(before == FSM_ESTABLISHED && f.state == FSM_IDLE);
			if (a->type == FSM_ACT_SEND_NOTIFICATION)
				assert(before >= FSM_OPENSENT && a->notif->code != 0);
			if (a->type == FSM_ACT_SEND_KEEPALIVE)
				assert(before >= FSM_OPENSENT);
			if (a->type == FSM_ACT_TIMER_START)
				assert(a->timer < FSM_TIMER_COUNT && a->seconds < 100000);
		}
		assert(f.idle_hold <= cfg.idle_hold_max);
		assert(strlen(f.last_error) < sizeof(f.last_error));
	}
	return 0;
}
