"use strict";
// Swagger UI with every service's API in its spec selector (?api=<name> opens one).
const csrfHeader = "{{ csrf_header_name }}";
const csrfToken = "{{ csrf_token }}";
const tokenPath = /^\/api\/users\/token\/(refresh\/)?$/;

const ui = SwaggerUIBundle({
  urls: {{ apis|safe }},
  "urls.primaryName": new URLSearchParams(window.location.search).get("api") || "orders",
  dom_id: "#swagger-ui",
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  plugins: [SwaggerUIBundle.plugins.DownloadUrl],
  layout: "StandaloneLayout",
  // The token stays when another API is picked, and across reloads of this page.
  persistAuthorization: true,
  requestInterceptor: (request) => {
    if (!["GET", undefined].includes(request.method) && request.credentials === "same-origin") {
      request.headers[csrfHeader] = csrfToken;
    }
    return request;
  },
  responseInterceptor: (response) => {
    // A sign-in tried out on this page authorizes the page: no copying of the token by hand.
    if (response.ok && response.obj && response.obj.access && tokenPath.test(new URL(response.url, window.location.href).pathname)) {
      ui.preauthorizeApiKey("jwtAuth", response.obj.access);
    }
    return response;
  },
  ...{{ settings|safe }},
});
