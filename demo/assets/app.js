/* Mercado Demo front end: plain JS, no framework.
 *
 * The server sends an empty shell (<div id="app"></div>); this script fetches the listings
 * from /mercado/data (same query string as the page) and builds the DOM promised in
 * demo/SPEC.md. It always ends by setting data-ready on #app ("1" on success, "error" on
 * failure) so browser-based scrapers have a reliable "rendered" signal to wait for.
 */
(function () {
  "use strict";

  var app = document.getElementById("app");
  var detail = window.location.pathname.match(/^\/mercado\/producto\/([^\/?#]+)$/);
  var url = detail
    ? "/mercado/data/producto/" + encodeURIComponent(decodeURIComponent(detail[1])) + window.location.search
    : "/mercado/data" + window.location.search;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (name) {
        if (attrs[name] !== null && attrs[name] !== undefined) node.setAttribute(name, attrs[name]);
      });
    }
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function card(item) {
    var article = el("article", { "class": "card", "data-sku": item.sku, "data-ean": item.ean });

    var h2 = el("h2", { "class": "card-title" });
    h2.appendChild(el("a", { href: item.url }, item.title));
    article.appendChild(h2);

    article.appendChild(el("p", { "class": "card-price" }, item.price));

    var meta = el("p", { "class": "card-meta" });
    meta.appendChild(el("span", { "class": "cond" }, item.condition));
    meta.appendChild(document.createTextNode(" · "));
    meta.appendChild(el("span", { "class": "city" }, item.city));
    article.appendChild(meta);

    var seller = el("p", { "class": "card-seller" }, "Vendido por ");
    seller.appendChild(el("b", null, item.seller));
    article.appendChild(seller);

    var gallery = el("ul", { "class": "gallery" });
    item.images.forEach(function (src) {
      var li = el("li");
      li.appendChild(el("img", { src: src, alt: "" }));
      gallery.appendChild(li);
    });
    article.appendChild(gallery);

    var table = el("table", { "class": "features" });
    item.features.forEach(function (pair) {
      var tr = el("tr");
      tr.appendChild(el("th", null, pair[0]));
      tr.appendChild(el("td", null, pair[1]));
      table.appendChild(tr);
    });
    article.appendChild(table);

    if (item.sold) article.appendChild(el("span", { "class": "flag-sold" }, "Vendido"));
    return article;
  }

  function render(data) {
    if (data.item) {
      app.appendChild(card(data.item));
    } else {
      data.items.forEach(function (item) { app.appendChild(card(item)); });
      if (data.items.length === 0) app.appendChild(el("p", { "class": "empty" }, "No hay resultados."));
      if (data.next) app.appendChild(el("a", { "class": "next", href: data.next }, "Siguiente"));
    }
    app.setAttribute("data-ready", "1");
  }

  fetch(url, { headers: { Accept: "application/json" } })
    .then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) throw new Error(data.error || ("HTTP " + response.status));
        return data;
      });
    })
    .then(render)
    .catch(function (err) {
      app.appendChild(el("p", { "class": "error" }, String(err && err.message ? err.message : err)));
      app.setAttribute("data-ready", "error");
    });
})();
