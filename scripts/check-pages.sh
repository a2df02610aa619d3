#!/usr/bin/env bash
# make check-pages: opens reports/index.html and every reports/<name>/index.html in headless
# Chromium (Debian's chromium package, installed when missing) and fails on any console message
# of a page (they carry no script, so any message is an error) or an image that does not load.
# Each page is loaded into an iframe of a small harness page (file access between file:// pages
# allowed for this run only), which waits for every image and reports the broken ones on the
# console; Chromium writes console messages to stderr (--enable-logging=stderr).
set -euo pipefail
reports=$(cd "${1:-reports}" && pwd)
if ! command -v chromium >/dev/null; then
	echo "check-pages: installing chromium"
	apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/harness.html" <<'HTML'
<!doctype html><html><body><iframe id="f" width="1200" height="900"></iframe><script>
const page = decodeURIComponent(location.hash.slice(1));
const f = document.getElementById('f');
f.onload = () => {
  let d = null;
  try { d = f.contentDocument; } catch (e) {}
  if (!d) { console.error('check-pages: cannot inspect ' + page); return; }
  const imgs = Array.from(d.images);
  Promise.all(imgs.map(i => i.complete ? Promise.resolve()
      : new Promise(r => { i.onload = r; i.onerror = r; }))).then(() => {
    const bad = imgs.filter(i => !i.naturalWidth).map(i => i.getAttribute('src'));
    for (const b of bad) console.error('check-pages: missing image ' + b);
    console.log('check-pages: ok ' + imgs.length + ' images');
  });
};
f.src = page;
</script></body></html>
HTML
pages=("$reports/index.html")
for p in "$reports"/*/index.html; do pages+=("$p"); done
failed=0
for page in "${pages[@]}"; do
	log="$tmp/log"
	timeout 120 chromium --headless --no-sandbox --disable-gpu --allow-file-access-from-files \
		--enable-logging=stderr --v=0 --virtual-time-budget=10000 \
		--dump-dom "file://$tmp/harness.html#file://$page" > /dev/null 2> "$log" || true
	console=$(grep ':CONSOLE' "$log" | sed 's/^.*:CONSOLE([0-9]*)\] //; s/^.*:CONSOLE:[0-9]*\] //' || true)
	ok=$(printf '%s\n' "$console" | grep -c '^"check-pages: ok' || true)
	other=$(printf '%s\n' "$console" | grep -v '^"check-pages: ok' | grep -v '^$' || true)
	if [ "$ok" -ne 1 ] || [ -n "$other" ]; then
		echo "check-pages: FAIL ${page#"$reports"/}"
		printf '%s\n' "$other" | sed 's/^/    /'
		[ "$ok" -eq 1 ] || echo "    (the harness did not finish)"
		failed=$((failed + 1))
	else
		echo "check-pages: ok   ${page#"$reports"/} ($(printf '%s\n' "$console" | grep -o '[0-9]* images'))"
	fi
done
if [ "$failed" -gt 0 ]; then
	echo "check-pages: $failed of ${#pages[@]} page(s) failed"
	exit 1
fi
echo "check-pages: all ${#pages[@]} pages load without console errors or missing images"
