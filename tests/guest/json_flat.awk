# SPDX-License-Identifier: MIT
# Flattens one JSON object per input line into "path=value" lines:
#   {"a":1,"b":{"c":"x"},"d":[{"e":2}]}  ->  a=1  b.c=x  d.0.e=2
# Strict enough to reject what is not JSON (unbalanced brackets, missing
# commas or colons, bare words): it then prints "ERROR: ..." and exits 1.
# Strings keep their escapes undecoded; numbers and literals as written.

function fail(msg) {
	print "ERROR: not JSON at offset " pos ": " msg
	bad = 1
	exit 1
}

function ws() {
	while (pos <= n && substr(s, pos, 1) ~ /[ \t\r\n]/)
		pos++
}

function str(   start, c) {
	if (substr(s, pos, 1) != "\"")
		fail("string expected")
	start = ++pos
	while (pos <= n) {
		c = substr(s, pos, 1)
		if (c == "\\") {
			pos += 2
			continue
		}
		if (c == "\"")
			break
		pos++
	}
	if (pos > n)
		fail("unterminated string")
	pos++
	return substr(s, start, pos - start - 1)
}

function value(path,   c, tok) {
	ws()
	c = substr(s, pos, 1)
	if (c == "{")
		return object(path)
	if (c == "[")
		return array(path)
	if (c == "\"") {
		print path "=" str()
		return
	}
	if (match(substr(s, pos), /^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?/) ||
	    match(substr(s, pos), /^(true|false|null)/)) {
		print path "=" substr(s, pos, RLENGTH)
		pos += RLENGTH
		return
	}
	fail("value expected")
}

function join(path, key) {
	return path == "" ? key : path "." key
}

function object(path,   key) {
	pos++
	ws()
	if (substr(s, pos, 1) == "}") {
		pos++
		return
	}
	for (;;) {
		ws()
		key = str()
		ws()
		if (substr(s, pos, 1) != ":")
			fail("':' expected")
		pos++
		value(join(path, key))
		ws()
		c = substr(s, pos++, 1)
		if (c == "}")
			return
		if (c != ",")
			fail("',' or '}' expected")
	}
}

function array(path,   i, c) {
	pos++
	ws()
	if (substr(s, pos, 1) == "]") {
		pos++
		return
	}
	for (i = 0;; i++) {
		value(join(path, i))
		ws()
		c = substr(s, pos++, 1)
		if (c == "]")
			return
		if (c != ",")
			fail("',' or ']' expected")
	}
}

{
	s = $0
	n = length(s)
	pos = 1
	ws()
	if (substr(s, pos, 1) != "{")
		fail("an object expected")
	value("")
	ws()
	if (pos <= n)
		fail("trailing characters")
}
