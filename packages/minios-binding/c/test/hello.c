/* Smallest app: prints its argv and returns the number given as argv[1] (default 0). */
#include <mk/console.h>
#include <mk/lib.h>

int main(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		mk_printk("hello: argv[%d] = %s\n", i, argv[i]);
	return argc > 1 ? (int)mk_strtoul(argv[1], NULL, 10) : 0;
}
