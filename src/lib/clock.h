/* clock: the monotonic clock in seconds, for timeouts and durations. */
#ifndef TABBY_LIB_CLOCK_H
#define TABBY_LIB_CLOCK_H

double clock_mono(void);

#endif
