#!/usr/bin/env sh
# Brings src/Quiz.Web/openapi.json up to date with the server's /openapi/v1.json, and regenerates
# the types from it (src/shared/api.gen.ts). Run it after changing an endpoint, a record the API or
# the play hub sends, or an error code; commit both files. OpenApiDocumentTests fails until then.
set -e
root="$(cd "$(dirname "$0")/../../.." && pwd)"
cd "$root"
QUIZ_UPDATE_OPENAPI=1 dotnet test tests/Quiz.Server.Tests -p:SkipQuizWeb=true \
  --filter "FullyQualifiedName~Quiz.Server.Tests.Hosting.OpenApiDocumentTests.TheCheckedInDocumentIsTheServedOne"
cd src/Quiz.Web
npm run generate
