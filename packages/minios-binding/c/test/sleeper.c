/* Prints a line, then sleeps for an hour: a guest that only ends when the toolstack asks. */
#include <mk/console.h>
#include <mk/sched.h>
#include <mk/time.h>

int main(void)
{
	mk_printk("sleeper: sleeping for an hour\n");
	mk_thread_sleep_until(mk_time_monotonic_ns() + 3600ULL * 1000000000ULL);
	mk_printk("sleeper: woke up\n");
	return 3;
}
