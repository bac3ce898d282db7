// SPDX-License-Identifier: MIT
/*
 * vuvm: boot a guest in KVM and exit with its verdict.
 */
#include <signal.h>

#include "vmm/cli.h"
#include "vmm/machine.h"
#include "vmm/seccomp.h"

int main(int argc, char **argv)
{
	struct vuvm_config cfg;

	switch (cli_parse(argc, argv, &cfg)) {
	case CLI_DONE:
		return 0;
	case CLI_USAGE:
		return VUVM_EXIT_USAGE;
	case CLI_RUN:
		break;
	}
	log_set_level(cfg.log_level);
	sandbox_close_inherited_fds();
	if (sandbox_init(cfg.seccomp, cfg.check_port))
		return VUVM_EXIT_SETUP;
	/* Device state travels through pipes whose reader may vanish: a
	 * write must fail with EPIPE, not kill vuvm. */
	signal(SIGPIPE, SIG_IGN);
	return machine_run(&cfg);
}
