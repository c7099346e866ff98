#!/bin/sh
# Ask soilapi with curl. Each answer is printed as one line of JSON.
#
# usage: sh query.sh [GRAPHQL_URL]      (default: a local `make run`)
set -eu
URL="${1:-http://127.0.0.1:8000/graphql}"

# 1. POST a query with variables, as a JSON body.
curl --silent --show-error "$URL" \
  --header 'content-type: application/json' \
  --data '{"query": "query Founded($slug: String!) { organization(slug: $slug) { name start { iso precision } } }",
           "variables": {"slug": "gsp"}}'
echo

# 2. The same over GET (-G puts the --data-urlencode parameters in the URL): the answer
#    carries an ETag, and asked again with If-None-Match it is a 304 until the data changes.
curl --silent --show-error --get "$URL" \
  --data-urlencode 'query=query Founded($slug: String!) { organization(slug: $slug) { name start { iso precision } } }' \
  --data-urlencode 'variables={"slug": "esp"}'
echo

# 3. An automatic persisted query: the document named by the SHA-256 of its text.
QUERY='{ organization(slug: "aspir") { name start { iso } } }'
HASH=$(printf '%s' "$QUERY" | sha256sum | cut -d ' ' -f 1)
EXTENSIONS="{\"persistedQuery\": {\"version\": 1, \"sha256Hash\": \"$HASH\"}}"
# The hash alone: PersistedQueryNotFound the first time a server sees it ...
curl --silent --show-error --get "$URL" --data-urlencode "extensions=$EXTENSIONS"
echo
# ... so send the query with its hash once ...
curl --silent --show-error --get "$URL" \
  --data-urlencode "query=$QUERY" --data-urlencode "extensions=$EXTENSIONS"
echo
# ... and from then on the hash alone is answered: a short URL whatever the query's length.
curl --silent --show-error --get "$URL" --data-urlencode "extensions=$EXTENSIONS"
echo
