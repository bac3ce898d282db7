// SPDX-License-Identifier: MIT
/*
 * Guest image: map a file, or point at the embedded tiny guest.
 */
#define pr_fmt(fmt) "kernel: " fmt
#include "vmm/guest_image.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vhost/log.h"

/* Defined by the generated guest_blob.S (empty without a guest build). */
extern const unsigned char vuvm_guest_elf[];
extern const unsigned char vuvm_guest_elf_end[];

static int guest_image_builtin(struct guest_image *img)
{
	img->name = "built-in guest";
	img->data = vuvm_guest_elf;
	img->size = (size_t)(vuvm_guest_elf_end - vuvm_guest_elf);
	if (!img->size) {
		pr_err("this vuvm was built without the tiny guest; "
		       "pass --kernel FILE");
		return -ENOENT;
	}
	return 0;
}

static int guest_image_map(struct guest_image *img, int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	img->size = (size_t)st.st_size;
	if (!img->size)
		return 0;
	img->map = mmap(NULL, img->size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (img->map == MAP_FAILED) {
		img->map = NULL;
		return -errno;
	}
	img->data = img->map;
	return 0;
}

int guest_image_open(struct guest_image *img, const char *path)
{
	int fd, err;

	memset(img, 0, sizeof(*img));
	if (!path)
		return guest_image_builtin(img);
	img->name = path;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		pr_err("cannot open %s: %s", path, strerror(errno));
		return err;
	}
	err = guest_image_map(img, fd);
	close(fd);
	if (err)
		pr_err("cannot read %s: %s", path,
		       err == -EINVAL ? "not a regular file" : strerror(-err));
	return err;
}

void guest_image_close(struct guest_image *img)
{
	if (img->map)
		munmap(img->map, img->size);
	img->map = NULL;
}
