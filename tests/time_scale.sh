# SPDX-License-Identifier: MIT
# Upper time bounds that hold on a loaded machine, for the test scripts
# (sourced: `. "$top/tests/time_scale.sh"`). The same rule as
# tests/time_scale.h: the factor is VUVM_TEST_TIME_SCALE when that is a
# number from 1 to 100, otherwise 1 + load / cpus, at most 10, where load
# is the larger of the 1-minute load average and the processes runnable
# right now (other than the one reading /proc/loadavg). Lower bounds are
# never scaled.
#
#   time_scale_from ENV LOADAVG CPUS   the factor from its inputs
#   time_scale                         the factor, computed once when
#                                      this file is sourced
#   scaled_ms MS                       MS stretched by the factor
#   scaled_tries MS STEP_MS            how many STEP_MS waits fill MS, scaled
#   scaled_s S                         S seconds scaled, rounded up

time_scale_from() {
	awk -v env="$1" -v la="$2" -v cpus="$3" 'BEGIN {
		if (env ~ /^[0-9]+(\.[0-9]*)?$/ && env + 0 >= 1 &&
		    env + 0 <= 100) {
			printf "%.6f\n", env + 0
			exit
		}
		n = split(la, f, /[ \t\n]+/)
		if (n < 4 || cpus + 0 < 1 || f[1] !~ /^[0-9]+(\.[0-9]*)?$/ ||
		    f[4] !~ /^[0-9]+\/[0-9]+$/) {
			printf "%.6f\n", 1
			exit
		}
		split(f[4], r, "/")
		load = f[1] + 0
		if (r[1] - 1 > load)
			load = r[1] - 1
		s = 1 + (load > 0 ? load : 0) / cpus
		printf "%.6f\n", s < 10 ? s : 10
	}'
}

# Once: the callers below run in subshells, which could not keep it.
time_scale_now=$(time_scale_from "${VUVM_TEST_TIME_SCALE:-}" \
	"$(cat /proc/loadavg 2>/dev/null)" \
	"$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)")

time_scale() {
	echo "$time_scale_now"
}

scaled_ms() {
	awk -v ms="$1" -v s="$(time_scale)" 'BEGIN { printf "%d\n", ms * s + 0.5 }'
}

scaled_tries() {
	awk -v ms="$1" -v step="$2" -v s="$(time_scale)" \
		'BEGIN { printf "%d\n", (ms * s + step - 1) / step }'
}

# scaled_s S: S seconds stretched by the factor, in whole seconds (rounded
# up), for bounds given to programs in seconds (vuvm --timeout, a guest
# workload's stall=).
scaled_s() {
	awk -v s="$1" -v f="$(time_scale)" \
		'BEGIN { x = s * f; n = int(x); if (n < x) n++; print n }'
}
