#!/usr/bin/python3
"""promcheck.py - check the PromQL in hapair's alert rules and dashboards.

usage: promcheck.py names DOC FILE...
       promcheck.py query URL FILE...
       promcheck.py exposition DOC METRICS_TEXT...

FILE is a Prometheus rules file (.yml, .yaml: every rule's expr) or a
Grafana dashboard (.json: every panel target's expr and every templating
query).

names: every metric a query selects must be listed in DOC (the table in
docs/metrics.md; a histogram also has _bucket, _sum and _count), be a
recording rule of one of the FILEs, or be a series Prometheus makes itself
(up, ALERTS, scrape_*).  The label names and values in the selectors of
hapair metrics must be those DOC lists (plus the target labels job,
instance and cluster, and le on buckets), and every label in by, without,
on, ignoring and group_* must be one DOC or the targets define.  So a
dashboard or alert cannot silently look at a metric or label value that
does not exist.

query: run every query through URL/api/v1/query (a live Prometheus) and
fail on any the server rejects.  Grafana variables are replaced first:
$__rate_interval and $__interval by 1m, $__range by 5m, any other
$var or ${var} by .* (they are used in regex matchers).

exposition: every family in a /metrics text (saved from an agent) is in
DOC with the same type, and its samples carry only the labels DOC lists
(plus le on histogram buckets): the documentation covers what the agent
really serves.

Exit status 0 when all is well, 1 with one line per problem otherwise, 2
on bad usage or an unreadable file.
"""
import json
import re
import sys
import urllib.parse
import urllib.request

import yaml

# Series Prometheus adds to every scrape or rule evaluation.
BUILTIN = {
    "up", "scrape_duration_seconds", "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling", "scrape_series_added",
    "ALERTS", "ALERTS_FOR_STATE",
}
# Labels the scrape configuration attaches (deploy/prometheus).
TARGET_LABELS = {"job", "instance", "cluster"}
BUILTIN_LABELS = {"alertname", "alertstate", "severity", "__name__"}
KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan"}
AGGREGATORS = {"sum", "min", "max", "avg", "group", "stddev", "stdvar",
               "count", "count_values", "bottomk", "topk", "quantile"}
GROUPING = {"by", "without", "on", "ignoring", "group_left", "group_right"}

TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<range>\[[^\]]*\])
  | (?P<duration>(?:\d+(?:ms|[smhdwy]))+\b)
  | (?P<number>0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)
  | (?P<op>=~|!~|!=|==|<=|>=|[-+*/%^<>=(){},@])
""", re.VERBOSE)


class Problem(Exception):
    pass


def fail_usage(msg):
    print("promcheck: " + msg, file=sys.stderr)
    sys.exit(2)


# ---- docs/metrics.md -----------------------------------------------------

def load_doc(path):
    """The metric table: {name: {"type": t, "labels": {label: values}}},
    values a set, or None when DOC does not list them."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        fail_usage("cannot read %s: %s" % (path, e.strerror))
    metrics = {}
    for n, line in enumerate(lines, 1):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) < 3:
            continue
        names = re.findall(r"`(hapair_[a-zA-Z0-9_:]*)`", cells[0])
        if not names:
            continue
        mtype = cells[1]
        if mtype not in ("gauge", "counter", "histogram", "summary"):
            raise Problem("%s:%d: %s: type column says '%s', expected "
                          "gauge, counter, histogram or summary"
                          % (path, n, names[0], mtype))
        labels = {}
        for lab, vals in re.findall(r"`([a-zA-Z_]\w*)`(?:\s*\(([^)]*)\))?",
                                    cells[2]):
            labels[lab] = ({v.strip() for v in vals.split(",")}
                           if vals else None)
        for name in names:
            metrics[name] = {"type": mtype, "labels": labels}
    if not metrics:
        raise Problem("%s: no metric table (rows like | `hapair_x` | gauge "
                      "| ... |) found" % path)
    return metrics


def series_names(doc):
    """Every series name the documented families expose, with the extra
    labels each one carries (le on histogram buckets)."""
    out = {}
    for name, m in doc.items():
        labels = dict(m["labels"])
        out[name] = labels
        if m["type"] in ("histogram", "summary"):
            out[name + "_sum"] = labels
            out[name + "_count"] = labels
        if m["type"] == "histogram":
            out[name + "_bucket"] = dict(labels, le=None)
        if m["type"] == "summary":
            out[name] = dict(labels, quantile=None)
    return out


# ---- the files -------------------------------------------------------------

def load_exprs(path):
    """[(where, expr)] and the recording rule names of one file."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        fail_usage("cannot read %s: %s" % (path, e.strerror))
    if path.endswith(".json"):
        return grafana_exprs(path, text), set()
    if path.endswith((".yml", ".yaml")):
        return rule_exprs(path, text)
    fail_usage("%s: expected a rules file (.yml, .yaml) or a Grafana "
               "dashboard (.json)" % path)
    return None


def rule_exprs(path, text):
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise Problem("%s: not YAML: %s" % (path, e))
    if not isinstance(doc, dict) or not isinstance(doc.get("groups"), list):
        raise Problem("%s: expected a rules file with a 'groups' list"
                      % path)
    exprs, records = [], set()
    for g in doc["groups"]:
        for r in g.get("rules") or []:
            name = r.get("alert") or r.get("record") or "?"
            if "record" in r:
                records.add(r["record"])
            exprs.append(("%s: rule %s" % (path, name), str(r.get("expr"))))
    return exprs, records


def grafana_exprs(path, text):
    try:
        dash = json.loads(text)
    except ValueError as e:
        raise Problem("%s: not JSON: %s" % (path, e))
    exprs = []

    def walk(node, title):
        if isinstance(node, dict):
            title = node.get("title", title)
            for k, v in node.items():
                if k == "expr" and isinstance(v, str) and v.strip():
                    exprs.append(("%s: panel '%s'" % (path, title), v))
                else:
                    walk(v, title)
        elif isinstance(node, list):
            for v in node:
                walk(v, title)

    walk(dash.get("panels", []), "?")
    for ann in dash.get("annotations", {}).get("list", []):
        if isinstance(ann.get("expr"), str) and ann["expr"].strip():
            exprs.append(("%s: annotation '%s'" % (path, ann.get("name")),
                          ann["expr"]))
    for var in dash.get("templating", {}).get("list", []):
        if var.get("type") != "query":
            continue
        q = var.get("query")
        if isinstance(q, dict):
            q = q.get("query")
        if isinstance(q, str) and q.strip():
            exprs.append(("%s: variable '%s'" % (path, var.get("name")), q))
    return exprs


# ---- PromQL ----------------------------------------------------------------

def grafana_vars(expr):
    """Grafana variables by values PromQL accepts."""
    expr = re.sub(r"\$(?:__rate_interval|__interval)\b|\$\{__rate_interval\}"
                  r"|\$\{__interval\}", "1m", expr)
    expr = re.sub(r"\$__range\b|\$\{__range\}", "5m", expr)
    return re.sub(r"\$\{[^}]*\}|\$[a-zA-Z_]\w*|\[\[[^\]]*\]\]", ".*", expr)


def tokens(where, expr):
    out, pos = [], 0
    while pos < len(expr):
        m = TOKEN.match(expr, pos)
        if not m:
            raise Problem("%s: cannot read the query at '%s'"
                          % (where, expr[pos:pos + 20]))
        pos = m.end()
        if m.lastgroup != "space":
            out.append((m.lastgroup, m.group()))
    return out


def unquote(s):
    """The value of a PromQL string literal (Go escapes, as JSON's)."""
    if s[0] == "`":
        return s[1:-1]
    if s[0] == "'":
        s = '"' + s[1:-1].replace("\\'", "'").replace('"', '\\"') + '"'
    return json.loads(s)


def references(where, expr):
    """Metric selectors [(name, [(label, op, value)])] and the label names
    of grouping clauses in one query."""
    # label_values(METRIC, LABEL) and label_values(LABEL): Grafana's, not
    # PromQL; the label is a label, not a metric.
    extra_labels = []

    def lv(m):
        extra_labels.append(m.group(2))
        return m.group(1) or ""
    expr = re.sub(r"label_values\(\s*(?:(.*),)?\s*([a-zA-Z_]\w*)\s*\)", lv,
                  grafana_vars(expr))
    toks = tokens(where, expr)
    selectors, grouping = [], list(extra_labels)
    i = 0
    while i < len(toks):
        kind, text = toks[i]
        nxt = toks[i + 1][1] if i + 1 < len(toks) else None
        if kind == "ident" and text in GROUPING:
            i += 1
            if nxt == "(":
                i += 1
                while i < len(toks) and toks[i][1] != ")":
                    if toks[i][0] == "ident":
                        grouping.append(toks[i][1])
                    i += 1
                i += 1
            continue
        if kind == "ident" and (text.lower() in KEYWORDS or
                                text in AGGREGATORS or nxt == "("):
            i += 1
            continue
        if kind == "ident" or text == "{":
            name = text if kind == "ident" else None
            i += 1 if kind == "ident" else 0
            matchers = []
            if i < len(toks) and toks[i][1] == "{":
                i, matchers = read_matchers(where, toks, i + 1)
            for lab, op, val in matchers:
                if lab == "__name__" and op == "=":
                    name = val
            if name is None:
                raise Problem("%s: a selector without a metric name"
                              % where)
            selectors.append((name, matchers))
            continue
        i += 1
    return selectors, grouping


def read_matchers(where, toks, i):
    out = []
    while i < len(toks) and toks[i][1] != "}":
        if toks[i][1] == ",":
            i += 1
            continue
        if (i + 2 >= len(toks) or toks[i][0] != "ident" or
                toks[i + 1][1] not in ("=", "!=", "=~", "!~") or
                toks[i + 2][0] != "string"):
            raise Problem("%s: expected label OP \"value\" in a selector, "
                          "got '%s'" % (where, toks[i][1]))
        out.append((toks[i][1], toks[i + 1][1], unquote(toks[i + 2][1])))
        i += 3
    return i + 1, out


def check_selector(where, name, matchers, series, records):
    if name in BUILTIN or name in records:
        return []
    if name not in series:
        kind = "recording rule" if ":" in name else "metric"
        return ["%s: uses %s %s, which is not in docs/metrics.md%s"
                % (where, kind, name,
                   " or any rules file" if ":" in name else "")]
    allowed = series[name]
    errs = []
    for lab, op, val in matchers:
        if lab in TARGET_LABELS or lab == "__name__":
            continue
        if lab not in allowed:
            errs.append("%s: %s has no label '%s' (docs/metrics.md lists: "
                        "%s)" % (where, name, lab,
                                 ", ".join(sorted(allowed)) or "none"))
            continue
        known = allowed[lab]
        if known is None or op in ("!=", "!~") or val == ".*":
            continue
        wanted = val.split("|") if op == "=~" else [val]
        for v in wanted:
            if op == "=~" and not re.fullmatch(r"[a-zA-Z0-9_]+", v):
                continue
            if v not in known:
                errs.append("%s: %s{%s=\"%s\"}: docs/metrics.md lists "
                            "only %s" % (where, name, lab, v,
                                         ", ".join(sorted(known))))
    return errs


def cmd_names(argv):
    if len(argv) < 2:
        fail_usage("usage: promcheck.py names DOC FILE...")
    doc = load_doc(argv[0])
    series = series_names(doc)
    all_labels = set(TARGET_LABELS) | BUILTIN_LABELS | {"le", "quantile"}
    for labels in series.values():
        all_labels |= set(labels)
    exprs, records = [], set()
    for path in argv[1:]:
        e, r = load_exprs(path)
        if not e:
            raise Problem("%s: no queries found" % path)
        exprs += e
        records |= r
    errs, names = [], set()
    for where, expr in exprs:
        selectors, grouping = references(where, expr)
        if not selectors:
            errs.append("%s: the query selects no metric: %s"
                        % (where, expr.strip()))
        for name, matchers in selectors:
            names.add(name)
            errs += check_selector(where, name, matchers, series, records)
        for lab in grouping:
            if lab not in all_labels:
                errs.append("%s: groups by label '%s', which no metric in "
                            "docs/metrics.md has" % (where, lab))
    for e in errs:
        print("not ok: " + e)
    if errs:
        return 1
    print("ok: %d queries in %d files use %d metric names, all known"
          % (len(exprs), len(argv) - 1, len(names)))
    return 0


def cmd_query(argv):
    if len(argv) < 2:
        fail_usage("usage: promcheck.py query URL FILE...")
    url = argv[0].rstrip("/") + "/api/v1/query"
    errs, n = [], 0
    for path in argv[1:]:
        for where, expr in load_exprs(path)[0]:
            q = grafana_vars(expr)
            q = re.sub(r"label_values\(\s*(.*),\s*[a-zA-Z_]\w*\s*\)", r"\1",
                       q)
            if re.fullmatch(r"label_values\(\s*[a-zA-Z_]\w*\s*\)", q):
                continue
            n += 1
            data = urllib.parse.urlencode({"query": q}).encode()
            try:
                with urllib.request.urlopen(url, data, timeout=5) as r:
                    ans = json.load(r)
            except urllib.error.HTTPError as e:
                ans = json.load(e)
            except (OSError, ValueError) as e:
                print("not ok: %s: cannot ask %s: %s" % (where, url, e))
                return 1
            if ans.get("status") != "success":
                errs.append("%s: Prometheus rejects '%s': %s"
                            % (where, q.strip(), ans.get("error")))
    for e in errs:
        print("not ok: " + e)
    if errs:
        return 1
    print("ok: Prometheus accepts all %d queries" % n)
    return 0


SAMPLE = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? \S+$")


def cmd_exposition(argv):
    if len(argv) < 2:
        fail_usage("usage: promcheck.py exposition DOC METRICS_TEXT...")
    doc = load_doc(argv[0])
    series = series_names(doc)
    errs, families = [], 0
    for path in argv[1:]:
        try:
            with open(path, encoding="utf-8") as f:
                lines = f.read().splitlines()
        except OSError as e:
            fail_usage("cannot read %s: %s" % (path, e.strerror))
        before = families
        for n, line in enumerate(lines, 1):
            where = "%s:%d" % (path, n)
            m = re.match(r"# TYPE (\S+) (\S+)$", line)
            if m:
                families += 1
                name, mtype = m.groups()
                if name not in doc:
                    errs.append("%s: family %s is not in %s"
                                % (where, name, argv[0]))
                elif doc[name]["type"] != mtype:
                    errs.append("%s: %s is a %s, %s says %s"
                                % (where, name, mtype, argv[0],
                                   doc[name]["type"]))
                continue
            m = SAMPLE.match(line)
            if line.startswith("#") or not line or not m:
                continue
            name, labels = m.group(1), m.group(2) or ""
            if name not in series:
                continue
            for lab in re.findall(r'([a-zA-Z_]\w*)="', labels):
                if lab not in series[name]:
                    errs.append("%s: %s has label '%s', %s lists: %s"
                                % (where, name, lab, argv[0],
                                   ", ".join(sorted(series[name]))
                                   or "none"))
        if families == before:
            errs.append("%s: no '# TYPE' line: not a /metrics text" % path)
    for e in errs:
        print("not ok: " + e)
    if errs:
        return 1
    print("ok: all %d families served are documented" % families)
    return 0


def main():
    cmds = {"names": cmd_names, "query": cmd_query,
            "exposition": cmd_exposition}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        fail_usage("usage: promcheck.py names DOC FILE... | "
                   "query URL FILE... | exposition DOC METRICS_TEXT...")
    try:
        return cmds[sys.argv[1]](sys.argv[2:])
    except Problem as e:
        print("not ok: %s" % e)
        return 1


if __name__ == "__main__":
    sys.exit(main())
