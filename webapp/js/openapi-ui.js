// Swagger UI for the server's OpenAPI document (/openapi, API.md section 11). An external script, so the page's
// Content-Security-Policy needs no inline script.
window.addEventListener('DOMContentLoaded', () => {
  window.ui = window.SwaggerUIBundle({
    url: new URL('openapi', document.baseURI).href,
    dom_id: '#swagger-ui',
    deepLinking: true,
    tryItOutEnabled: false,
  });
});
