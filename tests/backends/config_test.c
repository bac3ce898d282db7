// SPDX-License-Identifier: MIT
/*
 * vub_config_read() (vhost/backends/ring.c), the GET_CONFIG of every
 * reference device: a slice inside the config space is copied exactly,
 * one that runs past its end is zero-filled there, one wholly past it (or
 * of a device without a config space) is all zeroes, and no offset or
 * size, however large, reads outside the config (ASan watches the build
 * with sanitizers).
 */
#include "tests/check.h"
#include "vhost/backends/vub.h"

/* A config space of 12 bytes, alone in its allocation for ASan. */
static uint8_t *config(void)
{
	uint8_t *c = malloc(12);

	REQUIRE(c != NULL);
	for (int i = 0; i < 12; i++)
		c[i] = (uint8_t)(0xa0 + i);
	return c;
}

/* @buf[0, @n) is all @v. */
static int all(const uint8_t *buf, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (buf[i] != v)
			return 0;
	return 1;
}

static void test_inside(void)
{
	uint8_t *c = config(), buf[16];

	memset(buf, 0xee, sizeof(buf));
	vub_config_read(c, 12, 0, buf, 12);
	CHECK(!memcmp(buf, c, 12));
	CHECK(all(buf + 12, 4, 0xee)); /* nothing beyond @size */
	vub_config_read(c, 12, 5, buf, 3);
	CHECK(buf[0] == 0xa5 && buf[1] == 0xa6 && buf[2] == 0xa7);
	CHECK(buf[3] == 0xa3); /* left from the first read */
	free(c);
}

static void test_past_the_end(void)
{
	uint8_t *c = config(), buf[16];

	memset(buf, 0xee, sizeof(buf));
	vub_config_read(c, 12, 8, buf, 8);
	CHECK(!memcmp(buf, c + 8, 4));
	CHECK(all(buf + 4, 4, 0));
	CHECK(all(buf + 8, 8, 0xee));
	memset(buf, 0xee, sizeof(buf));
	vub_config_read(c, 12, 12, buf, 16);
	CHECK(all(buf, 16, 0));
	memset(buf, 0xee, sizeof(buf));
	vub_config_read(c, 12, UINT32_MAX, buf, 16);
	CHECK(all(buf, 16, 0));
	memset(buf, 0xee, sizeof(buf));
	vub_config_read(c, 12, 11, buf, 16);
	CHECK(buf[0] == 0xab && all(buf + 1, 15, 0));
	free(c);
}

static void test_no_config_space(void)
{
	uint8_t buf[8];

	memset(buf, 0xee, sizeof(buf));
	vub_config_read(NULL, 0, 0, buf, sizeof(buf));
	CHECK(all(buf, sizeof(buf), 0));
	memset(buf, 0xee, sizeof(buf));
	vub_config_read(NULL, 0, 4, buf, 0);
	CHECK(all(buf, sizeof(buf), 0xee));
}

static const struct check_case cases[] = {
	{ "inside", test_inside },
	{ "past_the_end", test_past_the_end },
	{ "no_config_space", test_no_config_space },
};

int main(int argc, char **argv)
{
	return CHECK_RUN(cases, argc, argv);
}
