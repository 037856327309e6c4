# syntax=docker/dockerfile:1
# The Quiz server as an image: built and published in Release (the web pages included) on the
# .NET 10 SDK with Node 20, run on the ASP.NET Core 10 runtime as a non-root user.
#   docker build -t quiz-server:local .
# docker-compose.yml runs three of these behind nginx; tests/Quiz.Server.Tests/Hosting/
# ContainerDeploymentTests.cs checks that this file, the compose file and deploy/nginx.conf agree
# (the port, the health check, the data folder, the question bank).

# Node 20 for the web pages (src/Quiz.Web), taken from the official image: the SDK image's own
# distribution ships an older Node than Vite needs (20.19 or later).
FROM node:20-bookworm-slim AS node

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && node --version && npm --version
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    DOTNET_NOLOGO=1 \
    NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /src
# Restore first, from the project files only, so a change of source reuses the package layers.
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY src/Quiz.Ranking/Quiz.Ranking.csproj src/Quiz.Ranking/
COPY src/Quiz.Server/Quiz.Server.csproj src/Quiz.Server/Web.targets src/Quiz.Server/
RUN dotnet restore src/Quiz.Server/Quiz.Server.csproj
COPY src/Quiz.Web/package.json src/Quiz.Web/package-lock.json src/Quiz.Web/
RUN cd src/Quiz.Web && npm ci --no-audit --no-fund
COPY src/ src/
# The build runs `npm run build` into wwwroot (Web.targets), and publish carries wwwroot along.
RUN dotnet publish src/Quiz.Server/Quiz.Server.csproj -c Release --no-restore -o /out -p:UseAppHost=false \
 && test -f /out/wwwroot/index.html

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
# curl for the health check only.
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /out ./
COPY question-bank/ ./question-bank/
# The data folder (Storage:DataDir): generated secrets when none are given, the key ring of the
# login cookies. Owned by the image's non-root user `app`, 0700 like the server makes it itself.
RUN mkdir -p /app/data \
 && chown "$APP_UID" /app/data \
 && chmod 0700 /app/data
ENV Urls=http://0.0.0.0:8080 \
    Storage__DataDir=/app/data \
    Seed__Path=/app/question-bank \
    DOTNET_CLI_TELEMETRY_OPTOUT=1
USER $APP_UID
EXPOSE 8080
VOLUME /app/data
HEALTHCHECK --interval=10s --timeout=3s --start-period=90s --retries=3 \
  CMD curl -fsS -o /dev/null http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["dotnet", "Quiz.Server.dll"]
