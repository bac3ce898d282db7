// SPDX-License-Identifier: MIT
/*
 * The command line: defaults, every option's good and bad values, and
 * --device (its own parser is tested in test_vhost_user_dev.c).
 */
#include <string.h>

#include "tests/check.h"
#include "vmm/cli.h"

static struct vuvm_config cfg;

static enum cli_result parse(const char *a, const char *b, const char *c)
{
	char *argv[] = { "vuvm", (char *)a, (char *)b, (char *)c, NULL };
	int argc = 1 + (a != NULL) + (b != NULL) + (c != NULL);

	return cli_parse(argc, argv, &cfg);
}

static void test_defaults(void)
{
	CHECK(parse(NULL, NULL, NULL) == CLI_RUN);
	CHECK(cfg.kernel == NULL && cfg.test == NULL && cfg.cmdline == NULL);
	CHECK(cfg.mem_size == 64ULL << 20 && cfg.cpus == 1);
	CHECK(cfg.timeout == 0 && !cfg.json && !cfg.hugepages);
	CHECK(cfg.log_level == LOG_WARN);
	CHECK(cfg.seccomp == SANDBOX_ON);
	CHECK(cfg.mem_regions == 1 && !cfg.check_port);
}

static void test_values(void)
{
	CHECK(parse("--mem", "128M", "--json") == CLI_RUN);
	CHECK(cfg.mem_size == 128ULL << 20 && cfg.json);
	CHECK(parse("--mem=1G", "--cpus=4", "--hugepages") == CLI_RUN);
	CHECK(cfg.mem_size == 1ULL << 30 && cfg.cpus == 4 && cfg.hugepages);
	CHECK(parse("--timeout", "0.25", "--test=exit,status=3") == CLI_RUN);
	CHECK(cfg.timeout == 0.25 && !strcmp(cfg.test, "exit,status=3"));
	CHECK(parse("--kernel", "k.elf", "--log-level=debug") == CLI_RUN);
	CHECK(!strcmp(cfg.kernel, "k.elf") && cfg.log_level == LOG_DEBUG);
	CHECK(parse("--cmdline", "", NULL) == CLI_RUN);
	CHECK(cfg.cmdline && !cfg.cmdline[0]);
	CHECK(parse("--seccomp", "log", NULL) == CLI_RUN);
	CHECK(cfg.seccomp == SANDBOX_LOG);
	CHECK(parse("--seccomp=off", NULL, NULL) == CLI_RUN);
	CHECK(cfg.seccomp == SANDBOX_OFF);
	CHECK(parse("--seccomp=on", NULL, NULL) == CLI_RUN);
	CHECK(cfg.seccomp == SANDBOX_ON);
	CHECK(parse("--mem-regions", "4", "--check-port") == CLI_RUN);
	CHECK(cfg.mem_regions == 4 && cfg.check_port);
	CHECK(parse("--mem-regions=8", NULL, NULL) == CLI_RUN);
	CHECK(cfg.mem_regions == 8);
}

static void test_bad(void)
{
	CHECK(parse("--mem", "3M", NULL) == CLI_USAGE);
	CHECK(parse("--mem", "0", NULL) == CLI_USAGE);
	CHECK(parse("--mem", "lots", NULL) == CLI_USAGE);
	CHECK(parse("--mem", NULL, NULL) == CLI_USAGE);
	CHECK(parse("--cpus", "0", NULL) == CLI_USAGE);
	CHECK(parse("--cpus", "65", NULL) == CLI_USAGE);
	CHECK(parse("--cpus", "2x", NULL) == CLI_USAGE);
	CHECK(parse("--cpus", "-1", NULL) == CLI_USAGE);
	CHECK(parse("--timeout", "0", NULL) == CLI_USAGE);
	CHECK(parse("--timeout", "-1", NULL) == CLI_USAGE);
	CHECK(parse("--timeout", "nan", NULL) == CLI_USAGE);
	CHECK(parse("--timeout", "1s", NULL) == CLI_USAGE);
	CHECK(parse("--log-level", "loud", NULL) == CLI_USAGE);
	CHECK(parse("--test", "", NULL) == CLI_USAGE);
	CHECK(parse("--test", ",x=1", NULL) == CLI_USAGE);
	CHECK(parse("--kernel", "", NULL) == CLI_USAGE);
	CHECK(parse("--json=yes", NULL, NULL) == CLI_USAGE);
	CHECK(parse("--bogus", NULL, NULL) == CLI_USAGE);
	CHECK(parse("-m", "64M", NULL) == CLI_USAGE);
	CHECK(parse("kernel.elf", NULL, NULL) == CLI_USAGE);
	CHECK(parse("--", NULL, NULL) == CLI_USAGE);
	CHECK(parse("--me", "64M", NULL) == CLI_USAGE);
	CHECK(parse("--seccomp", "yes", NULL) == CLI_USAGE);
	CHECK(parse("--seccomp", NULL, NULL) == CLI_USAGE);
	CHECK(parse("--mem-regions", "0", NULL) == CLI_USAGE);
	CHECK(parse("--mem-regions", "9", NULL) == CLI_USAGE);
	CHECK(parse("--mem-regions", "2x", NULL) == CLI_USAGE);
	CHECK(parse("--check-port=1", NULL, NULL) == CLI_USAGE);
}

/* --device goes to vudev_parse(), one config per device, at most 8. */
static void test_devices(void)
{
	CHECK(parse("--device", "blk,socket=/a", "--device=net,socket=/b") ==
	      CLI_RUN);
	CHECK(cfg.nr_devices == 2);
	CHECK(!strcmp(cfg.devices[0].type, "blk") &&
	      !strcmp(cfg.devices[0].socket, "/a"));
	CHECK(!strcmp(cfg.devices[1].type, "net") &&
	      cfg.devices[1].queues == 2);
	CHECK(parse("--device", "blk", NULL) == CLI_USAGE);
	CHECK(parse("--device", "disk,socket=/a", NULL) == CLI_USAGE);
	/* tag= names an fs device's mount tag: 1..36 bytes, fs only. */
	CHECK(parse("--device", "fs,socket=/f,tag=shared", NULL) == CLI_RUN);
	CHECK(cfg.devices[0].tag && !strcmp(cfg.devices[0].tag, "shared"));
	CHECK(parse("--device", "fs,socket=/f", NULL) == CLI_RUN);
	CHECK(cfg.devices[0].tag == NULL);
	CHECK(parse("--device",
		    "fs,socket=/f,tag=123456789012345678901234567890123456",
		    NULL) == CLI_RUN);
	CHECK(parse("--device",
		    "fs,socket=/f,tag=1234567890123456789012345678901234567",
		    NULL) == CLI_USAGE);
	CHECK(parse("--device", "fs,socket=/f,tag=", NULL) == CLI_USAGE);
	CHECK(parse("--device", "blk,socket=/f,tag=x", NULL) == CLI_USAGE);
	{
		char *argv[20] = { "vuvm" };
		int argc = 1;

		for (int i = 0; i < 9; i++) {
			argv[argc++] = "--device";
			argv[argc++] = "rng,socket=/r";
		}
		CHECK(cli_parse(argc - 2, argv, &cfg) == CLI_RUN);
		CHECK(cfg.nr_devices == 8);
		CHECK(cli_parse(argc, argv, &cfg) == CLI_USAGE);
	}
}

int main(void)
{
	test_defaults();
	test_values();
	test_bad();
	test_devices();
	return check_exit();
}
