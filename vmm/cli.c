// SPDX-License-Identifier: MIT
/*
 * Command line: the option table, one small parser per option, then the
 * loop that matches "--name VALUE" or "--name=VALUE" against the table.
 */
#define pr_fmt(fmt) fmt
#include "vmm/cli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/control.h"
#include "vmm/memory.h"
#include "vmm/seccomp.h"
#include "vmm/vudev_config.h"

#ifndef VUVM_VERSION
#define VUVM_VERSION "unknown"
#endif

#define CLI_MAX_TIMEOUT 1e6

struct cli_option {
	const char *name;
	const char *metavar; /* NULL: a flag without value */
	const char *help;
	/* Returns 0, CLI_DONE for options that end the program, or -EINVAL
	 * with @why saying what was expected. */
	int (*parse)(struct vuvm_config *cfg, const char *arg,
		     const char **why);
};

static int cli_kernel(struct vuvm_config *cfg, const char *arg,
		      const char **why)
{
	*why = "empty file name";
	cfg->kernel = arg;
	return arg[0] ? 0 : -EINVAL;
}

static int cli_mem(struct vuvm_config *cfg, const char *arg, const char **why)
{
	return mem_parse_size(arg, &cfg->mem_size, why);
}

static int cli_mem_regions(struct vuvm_config *cfg, const char *arg,
			   const char **why)
{
	char *end;
	unsigned long n;

	*why = "expected a number of regions from 1 to 8";
	if (arg[0] < '0' || arg[0] > '9')
		return -EINVAL;
	n = strtoul(arg, &end, 10);
	if (*end || n < 1 || n > MEM_MAX_PARTS)
		return -EINVAL;
	cfg->mem_regions = (unsigned int)n;
	return 0;
}

static int cli_cpus(struct vuvm_config *cfg, const char *arg, const char **why)
{
	char *end;
	unsigned long n;

	*why = "expected a number of vCPUs from 1 to 64";
	if (arg[0] < '0' || arg[0] > '9')
		return -EINVAL;
	n = strtoul(arg, &end, 10);
	if (*end || n < 1 || n > VUVM_MAX_CPUS)
		return -EINVAL;
	cfg->cpus = (unsigned int)n;
	return 0;
}

static int cli_test(struct vuvm_config *cfg, const char *arg, const char **why)
{
	*why = "expected NAME[,key=value...]";
	cfg->test = arg;
	return arg[0] && arg[0] != ',' ? 0 : -EINVAL;
}

static int cli_cmdline(struct vuvm_config *cfg, const char *arg,
		       const char **why)
{
	cfg->cmdline = arg;
	return 0;
}

static int cli_timeout(struct vuvm_config *cfg, const char *arg,
		       const char **why)
{
	char *end;
	double t;

	*why = "expected seconds, a number above 0 (fractions allowed)";
	t = strtod(arg, &end);
	if (end == arg || *end || !isfinite(t) || t <= 0 || t > CLI_MAX_TIMEOUT)
		return -EINVAL;
	cfg->timeout = t;
	return 0;
}

static int cli_log_level(struct vuvm_config *cfg, const char *arg,
			 const char **why)
{
	*why = "expected error, warn, info or debug";
	return log_parse_level(arg, &cfg->log_level);
}

static int cli_json(struct vuvm_config *cfg, const char *arg, const char **why)
{
	cfg->json = true;
	return 0;
}

static int cli_hugepages(struct vuvm_config *cfg, const char *arg,
			 const char **why)
{
	cfg->hugepages = true;
	return 0;
}

static int cli_device(struct vuvm_config *cfg, const char *arg,
		      const char **why)
{
	if (cfg->nr_devices == VUVM_MAX_DEVICES) {
		*why = "at most 8 devices";
		return -EINVAL;
	}
	return vudev_parse(arg, &cfg->devices[cfg->nr_devices++], why);
}

static int cli_trace(struct vuvm_config *cfg, const char *arg, const char **why)
{
	*why = "expected vhost";
	if (strcmp(arg, "vhost"))
		return -EINVAL;
	cfg->trace_vhost = true;
	return 0;
}

static int cli_control(struct vuvm_config *cfg, const char *arg,
		       const char **why)
{
	cfg->control = arg;
	return control_check_path(arg, why);
}

static int cli_seccomp(struct vuvm_config *cfg, const char *arg,
		       const char **why)
{
	*why = "expected on, log or off";
	return sandbox_parse_mode(arg, &cfg->seccomp);
}

static int cli_check_port(struct vuvm_config *cfg, const char *arg,
			  const char **why)
{
	cfg->check_port = true;
	return 0;
}

static int cli_help(struct vuvm_config *cfg, const char *arg, const char **why);

static int cli_version(struct vuvm_config *cfg, const char *arg,
		       const char **why)
{
	printf("vuvm %s\n", VUVM_VERSION);
	return CLI_DONE;
}

static const struct cli_option cli_options[] = {
	{ "kernel", "FILE",
	  "ELF64 guest to boot (default: built-in tiny guest)", cli_kernel },
	{ "mem", "SIZE",
	  "guest RAM, bytes or K/M/G, multiple of 2M, 2M..64G (default 64M)",
	  cli_mem },
	{ "mem-regions", "N",
	  "split the RAM below 3G into N memfds (1..8, default 1), each "
	  "mapped from offset 2M",
	  cli_mem_regions },
	{ "cpus", "N", "number of vCPUs, 1..64 (default 1)", cli_cpus },
	{ "test", "NAME[,k=v...]",
	  "guest workload and its parameters (default: the guest's own)",
	  cli_test },
	{ "cmdline", "STR", "guest command line (/chosen/bootargs)",
	  cli_cmdline },
	{ "timeout", "SEC",
	  "stop the guest after SEC seconds and exit 124 (default: none)",
	  cli_timeout },
	{ "log-level", "LEVEL", "error, warn, info or debug (default warn)",
	  cli_log_level },
	{ "json", NULL, "print only the guest's VUVM-JSON lines, unprefixed",
	  cli_json },
	{ "hugepages", NULL, "back guest RAM with 2 MiB huge pages",
	  cli_hugepages },
	{ "device", "SPEC",
	  "vhost-user device (repeatable); SPEC is TYPE,socket=PATH"
	  "[,queues=N][,queue-size=N][,config-size=N][,connect-timeout=SEC]"
	  "[,reply-timeout=SEC][,reconnect=SEC][,ring-packed=on|off][,in-order="
	  "on|off][,tag=TAG (fs)], "
	  "TYPE one of net, blk, "
	  "console, rng, vsock, fs or a virtio device ID",
	  cli_device },
	{ "trace", "vhost", "log every vhost-user message, decoded",
	  cli_trace },
	{ "control", "PATH",
	  "serve commands (status, suspend, resume, save, restore, quit) "
	  "on a unix socket at PATH; see vuvmctl",
	  cli_control },
	{ "seccomp", "MODE",
	  "system call filter per thread: on (a forbidden call stops vuvm, "
	  "exit 126), log (the kernel logs it) or off (default on)",
	  cli_seccomp },
	{ "check-port", NULL,
	  "test aid (vuvm-check): the guest may stop, start, enable and "
	  "disable its devices' rings through I/O port 0xf6",
	  cli_check_port },
	{ "help", NULL, "print this help and exit", cli_help },
	{ "version", NULL, "print the version and exit", cli_version },
};

#define CLI_NR_OPTIONS (sizeof(cli_options) / sizeof(cli_options[0]))

static int cli_help(struct vuvm_config *cfg, const char *arg, const char **why)
{
	char left[40];

	printf("usage: vuvm [OPTION...]\n"
	       "Boots a guest in KVM; exits with the guest's status.\n\n");
	for (size_t i = 0; i < CLI_NR_OPTIONS; i++) {
		const struct cli_option *o = &cli_options[i];

		snprintf(left, sizeof(left), "--%s%s%s", o->name,
			 o->metavar ? " " : "", o->metavar ? o->metavar : "");
		printf("  %-26s %s\n", left, o->help);
	}
	printf("\nExit status: the guest's, or 120 usage, 121 setup, 122 "
	       "guest crash,\n123 bad guest access, 124 timeout, 125 "
	       "vhost-user backend lost,\n126 forbidden system call "
	       "(--seccomp; see docs/cli.md).\n");
	return CLI_DONE;
}

static const struct cli_option *cli_find(const char *name, size_t len)
{
	for (size_t i = 0; i < CLI_NR_OPTIONS; i++) {
		if (strlen(cli_options[i].name) == len &&
		    !strncmp(cli_options[i].name, name, len))
			return &cli_options[i];
	}
	return NULL;
}

static void cli_defaults(struct vuvm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mem_size = MEM_DEFAULT_SIZE;
	cfg->mem_regions = 1;
	cfg->cpus = 1;
	cfg->log_level = LOG_WARN;
}

/* Handles argv[*i] (and maybe its value in argv[*i + 1]). */
static int cli_one(int argc, char **argv, int *i, struct vuvm_config *cfg)
{
	const char *arg = argv[*i], *eq, *value = NULL, *why = "";
	const struct cli_option *o;
	int ret;

	if (strncmp(arg, "--", 2) || !arg[2]) {
		pr_err("unexpected argument '%s' (try --help)", arg);
		return -EINVAL;
	}
	eq = strchr(arg, '=');
	o = cli_find(arg + 2, eq ? (size_t)(eq - arg - 2) : strlen(arg + 2));
	if (!o) {
		pr_err("unknown option '%s' (try --help)", arg);
		return -EINVAL;
	}
	if (!o->metavar && eq) {
		pr_err("--%s takes no value", o->name);
		return -EINVAL;
	}
	if (o->metavar) {
		value = eq ? eq + 1 : (*i + 1 < argc ? argv[++*i] : NULL);
		if (!value) {
			pr_err("--%s needs a value (%s)", o->name, o->metavar);
			return -EINVAL;
		}
	}
	ret = o->parse(cfg, value, &why);
	if (ret < 0)
		pr_err("--%s '%s': %s", o->name, value ? value : "", why);
	return ret;
}

enum cli_result cli_parse(int argc, char **argv, struct vuvm_config *cfg)
{
	cli_defaults(cfg);
	for (int i = 1; i < argc; i++) {
		int ret = cli_one(argc, argv, &i, cfg);

		if (ret < 0)
			return CLI_USAGE;
		if (ret == CLI_DONE)
			return CLI_DONE;
	}
	return CLI_RUN;
}
