// Commands installed into the guest at boot (in its overlay, only when
// they changed).
//
// `wax-download FILE` asks the page to download a guest file. It prints
// an OSC escape sequence (number 7777, private to Wax) with the file's
// absolute path; the terminal swallows it, and the page reads the file
// from the guest disk through the Worker and hands it to the browser as a
// download. Only the path crosses the terminal, so any size works.

export const OSC_DOWNLOAD = 7777;

export const DOWNLOAD_SCRIPT = `#!/bin/sh
# wax-download FILE...: download guest files to the browser's computer.
if [ $# -eq 0 ]; then
  echo "usage: wax-download FILE..." >&2
  exit 2
fi
status=0
for f in "$@"; do
  if [ ! -f "$f" ]; then
    echo "wax-download: $f: not a regular file" >&2
    status=1
    continue
  fi
  sync
  path=$(readlink -f -- "$f")
  printf '\\033]${OSC_DOWNLOAD};download;%s\\007' "$path" > /dev/tty
  echo "wax-download: $f sent to the browser"
done
exit $status
`;
