// SPDX-License-Identifier: MIT
/*
 * The printf format engine, shared by snprintf and the console printf.
 * Portable C: the host unit test (tests/guest) runs it against expected
 * strings.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct spec {
	bool left;  /* '-' */
	bool zero;  /* '0' */
	bool plus;  /* '+' */
	bool space; /* ' ' */
	bool alt;   /* '#' */
	int width;
	int precision; /* -1: none */
	int size;      /* bytes of the integer argument */
	char conv;
};

struct out {
	format_sink sink;
	void *ctx;
	int count;
};

static void put(struct out *o, char c)
{
	o->sink(o->ctx, c);
	o->count++;
}

static void put_repeat(struct out *o, char c, int n)
{
	while (n-- > 0)
		put(o, c);
}

static void put_str(struct out *o, const char *s, int len,
		    const struct spec *sp)
{
	int pad = sp->width - len;

	if (!sp->left)
		put_repeat(o, ' ', pad);
	while (len--)
		put(o, *s++);
	if (sp->left)
		put_repeat(o, ' ', pad);
}

/*
 * One integer: @prefix is the sign or "0x"; precision gives the minimum
 * number of digits; '0' pads between prefix and digits.
 */
static void put_number(struct out *o, uint64_t v, bool neg, unsigned int base,
		       const struct spec *sp)
{
	const char *digits =
		sp->conv == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
	char buf[24], prefix[3] = "";
	int len = 0, plen = 0, zeros, pad;
	bool nonzero = v != 0;

	while (v) {
		buf[len++] = digits[v % base];
		v /= base;
	}
	if (len == 0 && sp->precision != 0)
		buf[len++] = '0';
	if (neg || sp->plus || sp->space)
		prefix[plen++] = neg ? '-' : sp->plus ? '+' : ' ';
	if (sp->alt && base == 16 && nonzero) {
		prefix[plen++] = '0';
		prefix[plen++] = sp->conv == 'X' ? 'X' : 'x';
	}
	if (sp->alt && base == 8 && (len == 0 || buf[len - 1] != '0'))
		buf[len++] = '0';
	zeros = sp->precision > len ? sp->precision - len : 0;
	pad = sp->width - plen - zeros - len;
	if (sp->zero && !sp->left && sp->precision < 0) {
		zeros += pad > 0 ? pad : 0;
		pad = 0;
	}
	if (!sp->left)
		put_repeat(o, ' ', pad);
	for (int i = 0; i < plen; i++)
		put(o, prefix[i]);
	put_repeat(o, '0', zeros);
	while (len)
		put(o, buf[--len]);
	if (sp->left)
		put_repeat(o, ' ', pad);
}

static const char *parse_flags(const char *f, struct spec *sp)
{
	for (;; f++) {
		switch (*f) {
		case '-':
			sp->left = true;
			break;
		case '0':
			sp->zero = true;
			break;
		case '+':
			sp->plus = true;
			break;
		case ' ':
			sp->space = true;
			break;
		case '#':
			sp->alt = true;
			break;
		default:
			return f;
		}
	}
}

static const char *parse_int(const char *f, int *val, va_list *ap)
{
	if (*f == '*') {
		*val = va_arg(*ap, int);
		return f + 1;
	}
	*val = 0;
	while (*f >= '0' && *f <= '9')
		*val = *val * 10 + (*f++ - '0');
	return f;
}

static const char *parse_size(const char *f, struct spec *sp)
{
	sp->size = sizeof(int);
	if (f[0] == 'h') {
		sp->size = f[1] == 'h' ? 1 : 2;
		return f + (f[1] == 'h' ? 2 : 1);
	}
	if (f[0] == 'l' && f[1] == 'l') {
		sp->size = sizeof(long long);
		return f + 2;
	}
	if (*f == 'l' || *f == 'z' || *f == 't' || *f == 'j') {
		sp->size = sizeof(long);
		return f + 1;
	}
	return f;
}

/* Reads the whole conversion spec after '%'; returns the conversion char. */
static const char *parse_spec(const char *f, struct spec *sp, va_list *ap)
{
	memset(sp, 0, sizeof(*sp));
	sp->precision = -1;
	f = parse_flags(f, sp);
	f = parse_int(f, &sp->width, ap);
	if (sp->width < 0) {
		sp->left = true;
		sp->width = -sp->width;
	}
	if (*f == '.') {
		f = parse_int(f + 1, &sp->precision, ap);
		if (sp->precision < 0)
			sp->precision = -1;
	}
	f = parse_size(f, sp);
	sp->conv = *f;
	return f;
}

static uint64_t arg_unsigned(const struct spec *sp, va_list *ap)
{
	uint64_t v = sp->size == 8 ? va_arg(*ap, unsigned long long)
				   : va_arg(*ap, unsigned int);

	if (sp->size == 1)
		return (uint8_t)v;
	if (sp->size == 2)
		return (uint16_t)v;
	return v;
}

static int64_t arg_signed(const struct spec *sp, va_list *ap)
{
	int64_t v = sp->size == 8 ? va_arg(*ap, long long) : va_arg(*ap, int);

	if (sp->size == 1)
		return (int8_t)v;
	if (sp->size == 2)
		return (int16_t)v;
	return v;
}

static void convert(struct out *o, struct spec *sp, va_list *ap)
{
	const char *s;
	int64_t sv;
	char c;

	switch (sp->conv) {
	case 'd':
	case 'i':
		sv = arg_signed(sp, ap);
		put_number(o, sv < 0 ? -(uint64_t)sv : (uint64_t)sv, sv < 0, 10,
			   sp);
		break;
	case 'u':
		put_number(o, arg_unsigned(sp, ap), false, 10, sp);
		break;
	case 'x':
	case 'X':
		put_number(o, arg_unsigned(sp, ap), false, 16, sp);
		break;
	case 'o':
		put_number(o, arg_unsigned(sp, ap), false, 8, sp);
		break;
	case 'p':
		sp->alt = true;
		sp->conv = 'x';
		put_number(o, (uintptr_t)va_arg(*ap, void *), false, 16, sp);
		break;
	case 'c':
		c = (char)va_arg(*ap, int);
		put_str(o, &c, 1, sp);
		break;
	case 's':
		s = va_arg(*ap, const char *);
		if (!s)
			s = "(null)";
		put_str(o, s,
			sp->precision >= 0 ? (int)strnlen(s, sp->precision)
					   : (int)strlen(s),
			sp);
		break;
	default:
		put(o, '%');
		put(o, sp->conv);
	}
}

int vformat(format_sink sink, void *ctx, const char *fmt, va_list ap)
{
	struct out o = { .sink = sink, .ctx = ctx };
	struct spec sp;
	va_list aq;

	va_copy(aq, ap);
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		if (fmt[1] == '%') {
			put(&o, *++fmt);
			continue;
		}
		fmt = parse_spec(fmt + 1, &sp, &aq);
		if (!sp.conv)
			break;
		convert(&o, &sp, &aq);
	}
	va_end(aq);
	return o.count;
}

struct buf_sink {
	char *buf;
	size_t size;
	size_t len;
};

static void buf_put(void *ctx, char c)
{
	struct buf_sink *b = ctx;

	if (b->len + 1 < b->size)
		b->buf[b->len] = c;
	b->len++;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct buf_sink b = { .buf = buf, .size = size };
	int n = vformat(buf_put, &b, fmt, ap);

	if (size)
		buf[b.len < size ? b.len : size - 1] = 0;
	return n;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
