// Swagger UI for /docs: same-origin requests carry the session cookie; add the CSRF token.
const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  requestInterceptor: (request) => {
    request.headers["X-Pipehouse-CSRF"] = csrf;
    return request;
  },
});
