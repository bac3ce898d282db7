/* SPDX-License-Identifier: MIT */
/*
 * The command line: one table of options, each with its help text and a
 * parser that fills struct vuvm_config.
 */
#ifndef VUVM_VMM_CLI_H
#define VUVM_VMM_CLI_H

#include "vmm/config.h"

enum cli_result {
	CLI_RUN,   /* @cfg is ready: boot */
	CLI_DONE,  /* --help or --version printed: exit 0 */
	CLI_USAGE, /* bad command line, one line printed: exit 120 */
};

/* Parses @argv into @cfg (defaults first). */
enum cli_result cli_parse(int argc, char **argv, struct vuvm_config *cfg);

#endif
