/* SPDX-License-Identifier: MIT */
/*
 * Captures what the code under test logs (vhost/log.h writes to stderr),
 * so a unit test can assert that a message was, or was not, logged.
 */
#ifndef VUVM_TESTS_VMM_LOG_CAPTURE_H
#define VUVM_TESTS_VMM_LOG_CAPTURE_H

#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct log_capture {
	FILE *file;
	int saved_fd;
	char text[8192];
};

/* From now on stderr goes to a temporary file. */
static inline void log_capture_start(struct log_capture *c)
{
	fflush(stderr);
	c->file = tmpfile();
	c->saved_fd = dup(STDERR_FILENO);
	if (c->file)
		dup2(fileno(c->file), STDERR_FILENO);
	c->text[0] = '\0';
}

/* Restores stderr; returns what was logged (also copied to stderr). */
static inline const char *log_capture_end(struct log_capture *c)
{
	size_t n = 0;

	fflush(stderr);
	dup2(c->saved_fd, STDERR_FILENO);
	close(c->saved_fd);
	if (c->file) {
		rewind(c->file);
		n = fread(c->text, 1, sizeof(c->text) - 1, c->file);
		fclose(c->file);
	}
	c->text[n] = '\0';
	fputs(c->text, stderr);
	return c->text;
}

/* How many times @needle occurs in @text. */
static inline unsigned int log_count(const char *text, const char *needle)
{
	unsigned int n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

#endif
