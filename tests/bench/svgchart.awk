# SPDX-License-Identifier: MIT
# A line chart as SVG, categorical x axis, logarithmic y axis.
# Input lines: SERIES X Y (series and x without spaces; x in first-seen
# order). Variables: title, xlabel, ylabel (-v). Used by compare.sh.
function fmt(v) {
	if (v >= 1e6) return sprintf("%gM", v / 1e6)
	if (v >= 1e3) return sprintf("%gk", v / 1e3)
	return sprintf("%g", v)
}
function esc(s) { gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); return s }
BEGIN { ns = 0; nx = 0 }
NF >= 3 && $3 > 0 {
	if (!($1 in sidx)) { sidx[$1] = ns; sname[ns++] = $1 }
	if (!($2 in xidx)) { xidx[$2] = nx; xname[nx++] = $2 }
	val[sidx[$1], xidx[$2]] = $3
	if (lo == "" || $3 < lo) lo = $3
	if (hi == "" || $3 > hi) hi = $3
}
END {
	W = 640; H = 400; L = 80; R = 170; T = 40; B = 60
	pw = W - L - R; ph = H - T - B
	if (nx == 0) { print "svgchart.awk: no data" > "/dev/stderr"; exit 1 }
	e0 = int(log(lo) / log(10)); if (10 ^ e0 > lo) e0--
	e1 = int(log(hi) / log(10)); if (10 ^ e1 < hi) e1++
	if (e1 == e0) e1++
	split("#1f77b4 #d62728 #2ca02c #ff7f0e #9467bd", col, " ")
	printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n", W, H, W, H
	printf "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", W, H
	printf "<text x=\"%d\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">%s</text>\n", L + pw / 2, esc(title)
	# y grid: decades and 2x, 5x
	for (e = e0; e <= e1; e++)
		for (m = 1; m <= 5; m += (m == 1 ? 1 : 3)) {
			v = m * 10 ^ e
			if (e == e1 && m > 1) continue
			y = T + ph - (log(v) / log(10) - e0) / (e1 - e0) * ph
			printf "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\"/>\n", L, y, L + pw, y, m == 1 ? "#bbb" : "#eee"
			printf "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", L - 6, y + 4, fmt(v)
		}
	printf "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"black\"/>\n", L, T, pw, ph
	for (i = 0; i < nx; i++) {
		x = L + (i + 0.5) * pw / nx
		printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", x, T + ph + 18, esc(xname[i])
	}
	printf "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", L + pw / 2, H - 15, esc(xlabel)
	printf "<text transform=\"translate(18,%d) rotate(-90)\" text-anchor=\"middle\">%s</text>\n", T + ph / 2, esc(ylabel)
	for (s = 0; s < ns; s++) {
		c = col[s % 5 + 1]; pts = ""
		for (i = 0; i < nx; i++) {
			if (!((s, i) in val)) continue
			x = L + (i + 0.5) * pw / nx
			y = T + ph - (log(val[s, i]) / log(10) - e0) / (e1 - e0) * ph
			pts = pts sprintf("%.1f,%.1f ", x, y)
			printf "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"><title>%s %s: %s</title></circle>\n", x, y, c, esc(sname[s]), esc(xname[i]), val[s, i]
		}
		printf "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"/>\n", pts, c
		ly = T + 10 + s * 20
		printf "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\"/>\n", L + pw + 12, ly, L + pw + 32, ly, c
		printf "<text x=\"%d\" y=\"%d\">%s</text>\n", L + pw + 38, ly + 4, esc(sname[s])
	}
	print "</svg>"
}
