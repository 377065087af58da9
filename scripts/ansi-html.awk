# scripts/ansi-html.awk: used by scripts/screenshots.
# SGR-coloured text (what tmux capture-pane -e writes) to HTML spans whose
# classes name the colour as the terminal shows it: reverse video is
# resolved here (f-bg/b-fg: the default background as text on the default
# foreground), so the palette CSS only maps names to colours.
function reset() { fg = ""; bg = ""; bold = 0; dim = 0; italic = 0; under = 0; rev = 0; strike = 0 }
function esc(s) {
  gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s)
  return s
}
# A colour: "" (default), 0-255, or #rrggbb, in `slot` (f or b): a class
# for the 16 palette colours and the defaults, a style for the others.
function paint(c, slot, dflt) {
  if (c == "") { cls = cls " " slot "-" dflt; return }
  if (c !~ /^#/ && c + 0 < 16) { cls = cls " " slot "-" c; return }
  sty = sty (slot == "f" ? "color:" : "background-color:") (c ~ /^#/ ? c : xterm(c + 0)) ";"
}
function hex(n) { return sprintf("%02x", n) }
function xterm(n,   r, g, b, v) {
  if (n >= 232) { v = 8 + (n - 232) * 10; return "#" hex(v) hex(v) hex(v) }
  n -= 16; r = int(n / 36); g = int(n / 6) % 6; b = n % 6
  return "#" hex(r ? r * 40 + 55 : 0) hex(g ? g * 40 + 55 : 0) hex(b ? b * 40 + 55 : 0)
}
function emit(text) {
  if (text == "") return
  cls = ""; sty = ""
  if (rev) { paint(bg, "f", "bg"); paint(fg, "b", "fg") }
  else { paint(fg, "f", "fg"); paint(bg, "b", "bg") }
  if (bold) cls = cls " bold"
  if (dim) cls = cls " dim"
  if (italic) cls = cls " italic"
  if (under && strike) cls = cls " under-strike"
  else if (under) cls = cls " underline"
  else if (strike) cls = cls " strike"
  if (sty != "") printf "<span class=\"%s\" style=\"%s\">%s</span>", substr(cls, 2), sty, esc(text)
  else printf "<span class=\"%s\">%s</span>", substr(cls, 2), esc(text)
}
function apply(params,   n, p, i, v, c) {
  n = split(params, p, ";")
  if (n == 0) { reset(); return }
  for (i = 1; i <= n; i++) {
    v = p[i] + 0
    if (p[i] == "" || v == 0) reset()
    else if (v == 1) bold = 1
    else if (v == 2) dim = 1
    else if (v == 3) italic = 1
    else if (v == 4) under = 1
    else if (v == 7) rev = 1
    else if (v == 9) strike = 1
    else if (v == 22) { bold = 0; dim = 0 }
    else if (v == 23) italic = 0
    else if (v == 24) under = 0
    else if (v == 27) rev = 0
    else if (v == 29) strike = 0
    else if (v >= 30 && v <= 37) fg = v - 30
    else if (v >= 40 && v <= 47) bg = v - 40
    else if (v >= 90 && v <= 97) fg = v - 90 + 8
    else if (v >= 100 && v <= 107) bg = v - 100 + 8
    else if (v == 39) fg = ""
    else if (v == 49) bg = ""
    else if ((v == 38 || v == 48) && p[i + 1] == 5) {
      if (v == 38) fg = p[i + 2] + 0; else bg = p[i + 2] + 0
      i += 2
    } else if ((v == 38 || v == 48) && p[i + 1] == 2) {
      c = "#" hex(p[i + 2]) hex(p[i + 3]) hex(p[i + 4])
      if (v == 38) fg = c; else bg = c
      i += 4
    }
  }
}
BEGIN { reset() }
{
  line = $0
  while (match(line, /\033\[[0-9;]*m/)) {
    emit(substr(line, 1, RSTART - 1))
    apply(substr(line, RSTART + 2, RLENGTH - 3))
    line = substr(line, RSTART + RLENGTH)
  }
  emit(line)
  printf "\n"
}
