# shellcheck shell=sh
# SPDX-License-Identifier: MIT
# An ordinary user whose only right is membership of the group that owns
# /dev/kvm, for the scripts that run vuvm without root (unprivileged.sh,
# deb_cycle.sh). Sourced; needs root (groupadd, useradd, chgrp).
#
#   kvm_access_grant   /dev/kvm as Debian 12 leaves it; sets kvm_group
#   kvm_access_restore puts back what kvm_access_grant changed
#   kvm_user_add USER  a system user in $kvm_group (a left-over one is
#                      removed first)
#   kvm_user_del USER
#
# On Debian 12, udev's rule (KERNEL=="kvm", GROUP="kvm", MODE="0660" in
# /usr/lib/udev/rules.d/50-udev-default.rules) makes /dev/kvm root:kvm
# 0660, and the kvm system group exists (systemd's sysusers basic.conf,
# udev's postinst). Where no udev ran (a VM's initramfs, a container),
# /dev/kvm is root:root 0600: kvm_access_grant then does what that rule
# does, creating the group as the postinst does if it is missing.

# useradd, groupadd, userdel and runuser live in sbin, which a root
# shell's PATH may lack (su without -, a chroot).
PATH=$PATH:/usr/sbin:/sbin

kvm_made_group='' kvm_was='' kvm_mode='' kvm_group=''

kvm_access_grant() {
	kvm_mode=$(stat -c %a /dev/kvm) || return 1
	if [ "$(stat -c %g /dev/kvm)" -eq 0 ]; then
		if ! getent group kvm >/dev/null; then
			groupadd --system kvm || return 1
			kvm_made_group=1
		fi
		kvm_was=$(stat -c %u:%g /dev/kvm)
		chgrp kvm /dev/kvm && chmod 0660 /dev/kvm || return 1
		echo "kvm_user: /dev/kvm was root:root 0$kvm_mode (no udev ran" \
			"here); made it root:kvm 0660, as Debian's udev rule does"
	fi
	kvm_group=$(stat -c %G /dev/kvm)
}

kvm_access_restore() {
	if [ -n "$kvm_was" ]; then
		chown "$kvm_was" /dev/kvm
		chmod "$kvm_mode" /dev/kvm
		kvm_was=''
	fi
	if [ -n "$kvm_made_group" ]; then
		groupdel kvm
		kvm_made_group=''
	fi
}

kvm_user_add() {
	userdel "$1" 2>/dev/null # left by a run that was killed
	useradd --system --user-group --no-create-home \
		--home-dir /nonexistent --shell /usr/sbin/nologin \
		--groups "$kvm_group" "$1" || return 1
	echo "kvm_user: user $1 ($(id "$1")), /dev/kvm" \
		"$(stat -c '%U:%G %a' /dev/kvm)"
}

kvm_user_del() {
	userdel "$1" 2>/dev/null
}
