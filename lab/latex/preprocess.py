"""Lexical clean-up of a LaTeX math string before the grammar parses it.

Everything here is *decoration* a reader ignores (``$``, ``\\left``, ``\\boxed``, ``\\underset``,
comments, a trailing full stop, "where …" text) or a spelling that has one meaning
(``\\mathrm{diag}`` and ``\\text{diag}`` are both ``\\diag``). The structure of the expression is
left to the grammar (:mod:`lab.latex.parse`); nothing here decides what a product or a script means.

The result keeps a map back to the columns of the learner's text, so an error can say where it is.
"""
from __future__ import annotations

import re

# Words a font or text command may hold that name one function or operator.
WORDS = {
    "diag": r"\diag", "relu": r"\relu", "sign": r"\sign", "sgn": r"\sign", "tanh": r"\tanh",
    "sigmoid": r"\sigma", "softmax": r"\softmax", "softargmax": r"\softmax", "sech": r"\sech",
    "exp": r"\exp", "log": r"\log", "ln": r"\ln", "max": r"\max", "min": r"\min", "argmax": r"\argmax",
    "arg\\,max": r"\argmax", "argmin": r"\argmin", "softplus": r"\softplus", "gelu": r"\gelu",
    "leakyrelu": r"\leakyrelu", "onehot": r"\onehot", "one-hot": r"\onehot", "erf": r"\erf",
    "mse": "MSE", "bce": "BCE", "t": "T", "d": "d",
}
FONT_COMMANDS = ("mathbf", "boldsymbol", "bm", "mathrm", "mathit", "mathsf", "mathtt", "textbf",
                 "textit", "textrm", "operatorname", "operatorname*", "pmb", "mathnormal", "vec",
                 "text", "mbox", "textsf", "texttt", "mathbfit")
DROP_COMMANDS = (r"\left", r"\right", r"\bigl", r"\bigr", r"\Bigl", r"\Bigr", r"\biggl", r"\biggr",
                 r"\big", r"\Big", r"\bigg", r"\Bigg", r"\displaystyle", r"\textstyle", r"\limits",
                 r"\nonumber", r"\notag", r"\quad", r"\qquad", r"\huge", r"\Huge", r"\Large",
                 r"\LARGE", r"\large", r"\normalsize", r"\small", r"\!", r"\,", r"\;", r"\:", r"\ ")
MATRIX_ENVS = ("bmatrix", "pmatrix", "matrix", "Bmatrix", "smallmatrix", "array", "bmatrix*", "pmatrix*")
ALIGN_ENVS = ("equation", "equation*", "align", "align*", "aligned", "split", "flalign", "flalign*",
              "gather", "gather*", "gathered", "multline", "multline*", "alignat", "alignat*", "eqnarray",
              "eqnarray*", "displaymath", "math")
PLAIN_WORDS = ("softmax", "sigmoid", "tanh", "ReLU", "relu", "exp", "log", "ln", "diag", "sign", "max",
               "min", "argmax", "argmin", "sech")


class Text:
    """A string with, for each character, the column (0-based) it came from in the original."""

    def __init__(self, s, cols=None):
        self.s = s
        self.cols = list(range(len(s))) if cols is None else cols

    def sub(self, pattern, repl, flags=0):
        """re.sub keeping columns: a replacement takes the column of the text it replaces."""
        out, cols, pos = [], [], 0
        for m in re.finditer(pattern, self.s, flags):
            out.append(self.s[pos:m.start()])
            cols.extend(self.cols[pos:m.start()])
            r = m.expand(repl) if isinstance(repl, str) else repl(m)
            out.append(r)
            col = self.cols[m.start()] if m.start() < len(self.cols) else (self.cols[-1] + 1 if self.cols else 0)
            cols.extend([col] * len(r))
            pos = m.end()
        out.append(self.s[pos:])
        cols.extend(self.cols[pos:])
        return Text("".join(out), cols)

    def col(self, i):
        if not self.cols:
            return 0
        return self.cols[min(max(i, 0), len(self.cols) - 1)]


def _braced(s, i):
    """The end index (exclusive) of the brace group starting at s[i] == '{'."""
    depth = 0
    for j in range(i, len(s)):
        if s[j] == "\\":
            continue
        if s[j] == "{" and (j == 0 or s[j - 1] != "\\"):
            depth += 1
        elif s[j] == "}" and (j == 0 or s[j - 1] != "\\"):
            depth -= 1
            if depth == 0:
                return j + 1
    return -1


def _unwrap(t: Text, command: str, keep) -> Text:
    r"""Replace ``\command{arg}`` (and for two-argument forms, ``{a}{b}``) by ``keep(args)``."""
    nargs = {"underset": 2, "overset": 2, "stackrel": 2, "multicolumn": 3, "multirow": 3}.get(command, 1)
    pat = re.compile(r"\\" + re.escape(command) + r"(?![A-Za-z])\s*")
    while True:
        m = pat.search(t.s)
        if not m:
            return t
        i, args = m.end(), []
        ok = True
        for _ in range(nargs):
            while i < len(t.s) and t.s[i] == " ":
                i += 1
            if i < len(t.s) and t.s[i] == "{":
                j = _braced(t.s, i)
                if j < 0:
                    ok = False
                    break
                args.append((i + 1, j - 1))
                i = j
            elif i < len(t.s) and nargs == 1:     # \mathbf x : one token
                j = i + 1
                if t.s[i] == "\\":
                    mm = re.match(r"\\[A-Za-z]+", t.s[i:])
                    j = i + (mm.end() if mm else 2)
                args.append((i, j))
                i = j
            else:
                ok = False
                break
        if not ok:
            return t.sub(re.escape(m.group(0)), " ", 0) if False else _drop_span(t, m.start(), m.end())
        pieces = [Text(t.s[a:b], t.cols[a:b]) for a, b in args]
        new = keep(pieces)
        t = Text(t.s[:m.start()] + new.s + t.s[i:], t.cols[:m.start()] + new.cols + t.cols[i:])


def _drop_span(t, a, b):
    return Text(t.s[:a] + " " + t.s[b:], t.cols[:a] + [t.col(a)] + t.cols[b:])


def _font(pieces):
    """The content of a font/text command: a known word becomes its command, a single symbol stays,
    anything longer is kept as a group (bold around a whole product)."""
    p = pieces[0]
    word = p.s.strip()
    key = re.sub(r"\s+", "", word).lower().replace("\\", "")
    if key in WORDS:
        r = WORDS[key]
        return Text(r + " ", [p.col(0)] * (len(r) + 1))
    if re.fullmatch(r"[A-Za-z]", word) or re.fullmatch(r"\\[A-Za-z]+", word):
        return Text(" " + word + " ", [p.col(0)] + p.cols[:len(word)] + [p.col(len(word))])
    if re.fullmatch(r"[A-Za-z][A-Za-z ,.'-]*", word) and not re.fullmatch(r"[A-Za-z]{1,3}", word):
        s = "\\TEXT{" + word + "}"
        return Text(s, [p.col(0)] * len(s))
    s = "{" + p.s + "}"
    return Text(s, [p.col(0)] + p.cols + [p.col(len(p.s))])


def _text_font(pieces):
    """\\text{…}: a known word is its command, one letter stays a letter, other words are text."""
    p = pieces[0]
    word = p.s.strip()
    key = re.sub(r"\s+", "", word).lower()
    if key in WORDS or re.fullmatch(r"[A-Za-z]", word) or "\\" in word or "{" in word:
        return _font(pieces)
    s = "\\TEXT{" + word.replace("}", " ") + "}"
    return Text(s, [p.col(0)] * len(s))


def _keep_arg(n):
    def keep(pieces):
        p = pieces[n]
        s = "{" + p.s + "}"
        return Text(s, [p.col(0)] + p.cols + [p.col(len(p.s))])
    return keep


def _pair(t: Text, pattern, opening, closing) -> Text:
    """Alternate occurrences of a symbol that both opens and closes (‖…‖, |…|) become an opening
    and a closing one, so the grammar needs no guess about which is which."""
    count = [0]

    def repl(m):
        count[0] += 1
        return opening if count[0] % 2 else closing
    return t.sub(pattern, repl)


def _drop_trailing_prose(t: Text) -> Text:
    """"… where h is the width": a remark in words at the top level ends the formula (inside a
    cases environment, "for z > 0" is a condition and stays)."""
    for m in re.finditer(r"\\TEXT\{\s*(where|with|for all|for|and|hence|so|since|i\.e\.)\b[^}]*\}", t.s):
        before = t.s[:m.start()]
        if len(re.findall(r"\\begin\{", before)) == len(re.findall(r"\\end\{", before)):
            return Text(t.s[:m.start()], t.cols[:m.start()])
    return t


def clean(latex: str) -> Text:
    """The learner's math with decorations removed and spellings unified (see the module doc)."""
    t = Text(latex)
    t = t.sub(r"(?<!\\)%[^\n]*", " ")                                   # comments
    t = t.sub(r"\\DeclareMathOperator\*?\s*\{[^}]*\}\s*\{[^}]*\}", " ")
    t = t.sub(r"\$\$|\$|\\\[|\\\]|\\\(|\\\)", " ")
    t = t.sub(r"\\(?:begin|end)\{(" + "|".join(re.escape(e) for e in ALIGN_ENVS) + r")\}(\{\d+\})?", " ")
    t = t.sub(r"\\tag\*?\{[^}]*\}|\\label\{[^}]*\}", " ")
    t = t.sub(r"\\q?quad\s*\(\s*\d+(\.\d+)?\s*\)", " ")              # an equation number: \quad (2)
    for cmd in ("boxed", "underbrace", "overbrace", "cancel", "bcancel", "color", "textcolor", "phantom"):
        if cmd in ("color",):
            t = t.sub(r"\\color\{[^}]*\}", " ")
        elif cmd == "textcolor":
            t = _unwrap(t, "textcolor", lambda ps: Text(" ", [ps[0].col(0)]))
        else:
            t = _unwrap(t, cmd, _keep_arg(0))
    t = t.sub(r"_\{[^{}]*(\{[^{}]*\}[^{}]*)*\}(?=\s*$)", lambda m: m.group(0))  # (left for the grammar)
    for cmd in ("underset", "overset", "stackrel"):
        t = _unwrap(t, cmd, _keep_arg(1))
    t = _unwrap(t, "multicolumn", _keep_arg(2))
    t = _unwrap(t, "multirow", _keep_arg(2))
    t = t.sub(r"\\mathbb\s*\{\s*(1|I)\s*\}|\\mathbb\s*(1|I)\b|\\mathds\s*\{\s*1\s*\}|\\mathbbm\s*\{\s*1\s*\}",
              lambda m: r"\bbone " if (m.group(1) or m.group(2) or "1") == "1" else r"\bbI ")
    t = t.sub(r"\\mathbf\s*\{\s*1\s*\}\s*(?=_)", r"\\bbone ")
    t = t.sub(r"\\mathsf\s*\{\s*T\s*\}|\\intercal|\\top|\\mathrm\s*\{\s*T\s*\}|\\text\s*\{\s*T\s*\}", r"\\top ")
    t = t.sub(r"\\mathbb\s*\{\s*R\s*\}|\\R\b|\\Re\b", r"\\reals ")
    # \text{...}, \mathbf{...}, \operatorname{...}, ...
    for cmd in FONT_COMMANDS:
        t = _unwrap(t, cmd, _text_font if cmd.startswith(("text", "mbox")) else _font)
    t = t.sub(r"\\(?:mathcal|mathscr|mathfrak)\s*\{\s*L\s*\}", "L")
    for d in DROP_COMMANDS:
        t = t.sub(r"(?<!\\)" + re.escape(d) + (r"(?![A-Za-z])" if d[-1].isalpha() else ""), " ")
    t = t.sub(r"\\dfrac|\\tfrac|\\cfrac", r"\\frac")
    t = t.sub(r"\\arg\s*\\?(min|max)(?![A-Za-z])", r"\\arg\1 ")
    t = t.sub(r"\\mathop\s*\{\s*\\arg(min|max)\s*\}", r"\\arg\1 ")
    t = t.sub(r"\\arg\s*\\?(min|max)\b", r"\\arg\1 ")
    t = t.sub(r"\\mathop\s*\{\s*\\arg(min|max)\s*\}", r"\\arg\1 ")
    t = t.sub(r"\\frac\s*(\d)\s*(\d)", r"\\frac{\1}{\2}")
    t = t.sub(r"\\frac\s*(\d)\s*(\\?[A-Za-z]+)", r"\\frac{\1}{\2}")
    t = t.sub(r"\\lVert|\\rVert|\\Vert|\\\|", r"\\| ")
    t = t.sub(r"\\lvert|\\rvert|\\vert", "|")
    t = _pair(t, r"\\\| ", r"\lnorm ", r"\rnorm ")
    t = _pair(t, r"(?<!\\)\|", r"\labs ", r"\rabs ")
    t = t.sub(r"\\cdotp|\\bullet", r"\\cdot ")
    t = t.sub(r"\\ge(?![A-Za-z])|\\geqslant", r"\\geq ")
    t = t.sub(r"\\le(?![A-Za-z])|\\leqslant", r"\\leq ")
    t = t.sub(r"\\ne(?![A-Za-z])", r"\\neq ")
    t = t.sub(r"\\gt(?![A-Za-z])", ">")
    t = t.sub(r"\\lt(?![A-Za-z])", "<")
    t = t.sub(r"\\rightarrow|\\to(?![A-Za-z])|\\longrightarrow", r"\\to ")
    t = t.sub(r"\\ldots|\\dots[cb]?|\\cdots|\\vdots|\\ddots|\.\.\.", r"\\dots ")
    t = t.sub(r"\\(widehat|hat)\b", r"\\hat")
    t = t.sub(r"\\(widetilde|tilde)\b", r"\\tilde")
    t = t.sub(r"\\(hat|tilde|bar|sqrt)\s*(\\[A-Za-z]+|[A-Za-z0-9])", r"\\\1{\2}")
    t = t.sub(r"\\prime\b", "'")
    t = t.sub(r"\\(lbrack|lbrace)\b", lambda m: "[" if m.group(1) == "lbrack" else r"\{")
    t = t.sub(r"\\(rbrack|rbrace)\b", lambda m: "]" if m.group(1) == "rbrack" else r"\}")
    t = t.sub(r"\\operatorname\*?", " ")
    # plain words: exp(...), softmax, ReLU written without a backslash
    t = t.sub(r"(?<![\\A-Za-z])(" + "|".join(PLAIN_WORDS) + r")(?![A-Za-z])",
              lambda m: WORDS.get(m.group(1).lower(), "\\" + m.group(1)) + " ")
    t = t.sub(r"\\ReLU\b|\\Relu\b|\\relu\b", r"\\relu ")
    # θ* (the minimiser): a mark, not a power
    t = t.sub(r"\^\s*(\{\s*(\\star|\\ast|\*)\s*\}|\\star|\\ast|\*)", " ")
    # a name in words as a subscript (ℓ_{\text{perceptron}}) or a remark in brackets: not maths
    t = t.sub(r"_\{\s*\\TEXT\{[^}]*\}\s*\}", " ")
    t = t.sub(r"\(\s*\\TEXT\{[^}]*\}\s*\)", " ")
    # "where …", trailing punctuation
    t = _drop_trailing_prose(t)
    t = t.sub(r"\\in\s*\\reals\s*(\^\s*(\{[^{}]*\}|\S))?", " ")
    t = t.sub(r"[\s.,;]*$", "")
    # one-character scripts become braced: x^T -> x^{T}, z_1 -> z_{1}, W^\top -> W^{\top}
    t = t.sub(r"([_^])\s*(\\[A-Za-z]+|[A-Za-z0-9+\-*'])", r"\1{\2}")
    t = t.sub(r"\s+", " ")
    return t


def split_environments(t: Text):
    """Top-level pieces: the text split at ``\\\\`` outside matrices and cases (the lines of an
    align), each line with ``&`` removed outside them. Matrix and cases environments become the
    grammar's ``\\MATBEGIN … \\MATEND`` / ``\\CASESBEGIN … \\CASESEND`` with ``\\CELL`` and ``\\ROW``."""
    s, cols = t.s, t.cols
    out_lines, cur, cur_cols, depth = [], [], [], 0
    i = 0
    env_pat = re.compile(r"\\(begin|end)\{([A-Za-z*]+)\}(\{[^}]*\})?")
    while i < len(s):
        m = env_pat.match(s, i)
        if m:
            kind, env = m.group(1), m.group(2)
            if env in MATRIX_ENVS or env == "cases" or env in ("dcases", "rcases"):
                name = "CASES" if "cases" in env else "MAT"
                tok = f" \\{name}{'BEGIN' if kind == 'begin' else 'END'} "
                depth += 1 if kind == "begin" else -1
                cur.append(tok)
                cur_cols.extend([cols[i]] * len(tok))
                i = m.end()
                continue
        if s.startswith("\\\\", i):
            if depth > 0:
                cur.append(" \\ROW ")
                cur_cols.extend([cols[i]] * 6)
            else:
                out_lines.append(Text("".join(cur), cur_cols))
                cur, cur_cols = [], []
            i += 2
            continue
        if s[i] == "&" and (i == 0 or s[i - 1] != "\\"):
            if depth > 0:
                cur.append(" \\CELL ")
                cur_cols.extend([cols[i]] * 7)
            i += 1
            continue
        cur.append(s[i])
        cur_cols.append(cols[i])
        i += 1
    out_lines.append(Text("".join(cur), cur_cols))
    lines = [ln.sub(r"[.,;]\s*(?=\\(CASESEND|MATEND|ROW)\b)", " ") for ln in out_lines if ln.s.strip()]
    # inside cases, a comma before or after the column break is punctuation
    return [ln.sub(r",\s*(?=\\CELL|\\TEXT\{)|(?<=\\CELL),", " ") for ln in lines]
