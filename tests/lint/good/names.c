// lint-path: core/x.c
/* Our own identifiers that contain OS names. */
int timeout_ms(int x);
int sy_time_now(void);
int f(int time_left, int randomness, int opened)
{
	return timeout_ms(time_left) + sy_time_now() + randomness + opened;
}
