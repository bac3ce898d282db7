/* SPDX-License-Identifier: MIT */
/*
 * The guest image to boot: a file mapped read-only, or the tiny guest
 * embedded in vuvm at build time (guest_blob.S).
 */
#ifndef VUVM_VMM_GUEST_IMAGE_H
#define VUVM_VMM_GUEST_IMAGE_H

#include <stddef.h>

struct guest_image {
	const char *name; /* for messages */
	const void *data;
	size_t size;
	void *map; /* our mapping of the file, if any */
};

/*
 * Opens @path, or the built-in guest when @path is NULL. An empty file
 * opens fine (the loader names the problem). Returns 0 or -errno.
 */
int guest_image_open(struct guest_image *img, const char *path);

/* Releases what guest_image_open() mapped. */
void guest_image_close(struct guest_image *img);

#endif
