// The API documentation, from local assets (no CDN, no inline script).
window.SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui" });
