/* coverplan map helpers: markers, popups and search built with DOM nodes and textContent, so names from
   input data are never parsed as HTML. Layers register themselves in window.coverplanLayers. */
window.coverplanLayers = window.coverplanLayers || {};
window.coverplanIndex = window.coverplanIndex || [];
// Popups keep clear of the panels in the top-right corner: coverplanPanels sets the right padding of the pan that
// brings a popup into view to the panels' width (Leaflet reads these points when a popup opens).
window.coverplanPopupOptions = {
  maxWidth: 380,
  autoPanPaddingTopLeft: L.point(10, 10),
  autoPanPaddingBottomRight: L.point(10, 10)
};

function coverplanPopup(p) {
  var div = document.createElement('div');
  div.className = 'cp-popup';
  var h = document.createElement('div');
  h.className = 'cp-popup-title';
  h.textContent = p.title;
  div.appendChild(h);
  if (p.note) {  // [heading, text]: what to check, above the facts
    var note = document.createElement('div');
    note.className = 'cp-popup-note';
    var head = document.createElement('div');
    head.className = 'cp-popup-note-head';
    head.textContent = p.note[0];
    var body = document.createElement('div');
    body.textContent = p.note[1];
    note.appendChild(head);
    note.appendChild(body);
    div.appendChild(note);
  }
  var t = document.createElement('table');
  (p.facts || []).forEach(function (row) {
    var tr = t.insertRow();
    var a = tr.insertCell();
    a.textContent = row[0];
    var b = tr.insertCell();
    b.textContent = row[1];
  });
  div.appendChild(t);
  return div;
}

function coverplanBadge(f, latlng, m) {
  // a warning triangle up and to the right of the point (a point to verify): the point's own marker stays visible
  var size = 2 * (m.radius || 8);
  var ns = 'http://www.w3.org/2000/svg';
  var svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('width', size);
  svg.setAttribute('height', size);
  svg.setAttribute('viewBox', '-10 -10 20 20');
  function part(tag, attrs) {
    var el = document.createElementNS(ns, tag);
    Object.keys(attrs).forEach(function (k) { el.setAttribute(k, attrs[k]); });
    svg.appendChild(el);
  }
  part('polygon', {points: '0,-9 9.5,8 -9.5,8', fill: m.fillColor || '#ffb000', stroke: m.color || '#222',
                   'stroke-width': '1.5', 'stroke-linejoin': 'round'});
  part('line', {x1: '0', y1: '-3.2', x2: '0', y2: '2.2', stroke: m.color || '#222', 'stroke-width': '2.4',
                'stroke-linecap': 'round'});
  part('circle', {cx: '0', cy: '5.2', r: '1.4', fill: m.color || '#222'});
  var icon = L.divIcon({className: 'cp-icon cp-badge', html: svg, iconSize: [size, size],
                        iconAnchor: [-4, size + 4], popupAnchor: [4 + size / 2, -4 - size / 2]});
  return L.marker(latlng, {icon: icon, title: f.properties.title, zIndexOffset: 1000});
}

function coverplanPoint(f, latlng) {
  var m = f.properties.marker || {};
  if (m.shape === 'badge') { return coverplanBadge(f, latlng, m); }
  if (m.shape === 'star' || m.shape === 'diamond') {
    var size = 2 * (m.radius || 7);
    var ns = 'http://www.w3.org/2000/svg';
    var svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('width', size);
    svg.setAttribute('height', size);
    svg.setAttribute('viewBox', '-10 -10 20 20');
    var poly = document.createElementNS(ns, 'polygon');
    var pts = m.shape === 'star'
      ? '0,-10 2.4,-3.1 9.5,-3.1 3.8,1.2 5.9,8.1 0,3.8 -5.9,8.1 -3.8,1.2 -9.5,-3.1 -2.4,-3.1'
      : '0,-9 9,0 0,9 -9,0';
    poly.setAttribute('points', pts);
    poly.setAttribute('fill', m.fillColor || m.color);
    poly.setAttribute('stroke', m.color || '#000');
    poly.setAttribute('stroke-width', '1.5');
    svg.appendChild(poly);
    var icon = L.divIcon({className: 'cp-icon', html: svg, iconSize: [size, size], iconAnchor: [size / 2, size / 2]});
    return L.marker(latlng, {icon: icon, title: f.properties.title});
  }
  return L.circleMarker(latlng, m);
}

// Layers whose features carry their name as a label once the map is zoomed in (LABEL_ZOOM and closer), in the
// order their labels are placed: a village's name before its school's (which mostly repeats it).
var COVERPLAN_LABELLED = {villages: 1, schools: 2};
var COVERPLAN_LABEL_ZOOM = 13;
var COVERPLAN_MARKER_PX = 7;  // half the size of a point's marker, kept clear of other points' labels

function coverplanBoxesMeet(a, b) {
  return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
}

function coverplanPointBoxes(map) {
  // every point marker of every coverplan layer on the map, as a box in container pixels
  var boxes = [];
  Object.keys(window.coverplanLayers).forEach(function (key) {
    var layer = window.coverplanLayers[key];
    if (!map.hasLayer(layer)) { return; }
    layer.eachLayer(function (lyr) {
      if (!lyr.getLatLng) { return; }
      var p = map.latLngToContainerPoint(lyr.getLatLng());
      boxes.push({left: p.x - COVERPLAN_MARKER_PX, right: p.x + COVERPLAN_MARKER_PX,
                  top: p.y - COVERPLAN_MARKER_PX, bottom: p.y + COVERPLAN_MARKER_PX, x: p.x, y: p.y});
    });
  });
  return boxes;
}

function coverplanPanelBoxes(map, origin) {
  // the controls (title, layer control, legend, search, zoom, scale): a label under them could not be read
  return Array.from(map.getContainer().querySelectorAll('.leaflet-control')).map(function (el) {
    var r = el.getBoundingClientRect();
    return {left: r.left - origin.left, right: r.right - origin.left, top: r.top - origin.top,
            bottom: r.bottom - origin.top};
  }).filter(function (b) { return b.right > b.left && b.bottom > b.top; });
}

function coverplanLabelItems(map) {
  var size = map.getSize();
  var items = [];
  Object.keys(COVERPLAN_LABELLED).forEach(function (key) {
    var layer = window.coverplanLayers[key];
    if (!layer || !map.hasLayer(layer)) { return; }
    layer.eachLayer(function (lyr) {
      var tip = lyr.getTooltip && lyr.getTooltip();
      var el = tip && tip.getElement();
      if (!el) { return; }
      var p = map.latLngToContainerPoint(lyr.getLatLng());
      var inView = p.x >= 0 && p.y >= 0 && p.x <= size.x && p.y <= size.y;
      items.push({el: el, p: p, rank: COVERPLAN_LABELLED[key], inView: inView});
    });
  });
  items.sort(function (a, b) { return a.rank - b.rank; });
  return items;
}

function coverplanDeclutter(map) {
  // Place the labels of the points in view one by one (villages, then schools): right of the point, else left of it (a side
  // inside the map first), else hidden (the name is in the point's popup and shows while the pointer is on the
  // point). A label never covers another label, another point's marker (markers on the point itself, such as a
  // proposal's ring on its school, do not count) or a control panel.
  var size = map.getSize();
  var origin = map.getContainer().getBoundingClientRect();
  var points = coverplanPointBoxes(map);
  map.getContainer().setAttribute('data-labels-zoom', String(map.getZoom()));  // placed for this zoom
  var placed = coverplanPanelBoxes(map, origin);
  coverplanLabelItems(map).forEach(function (item) {
    var el = item.el;
    el.style.marginLeft = '0px';
    el.classList.remove('cp-label-hidden');
    if (!item.inView) {  // a point outside the map: no half label at its edge (placed again after a pan)
      el.classList.add('cp-label-hidden');
      return;
    }
    var r = el.getBoundingClientRect();
    var right = {left: r.left - origin.left, right: r.right - origin.left, top: r.top - origin.top,
                 bottom: r.bottom - origin.top};
    var shift = -(r.width + 2 * 6 + 2 * COVERPLAN_MARKER_PX);  // mirrored to the left of the point
    var left = {left: right.left + shift, right: right.right + shift, top: right.top, bottom: right.bottom};
    var sides = [[right, 0], [left, shift]];
    var inside = function (b) { return b.left >= 0 && b.right <= size.x; };
    sides = sides.filter(function (c) { return inside(c[0]); }).concat(
      sides.filter(function (c) { return !inside(c[0]); }));
    var chosen = null;
    sides.some(function (c) {
      var box = c[0];
      var free = !placed.some(function (q) { return coverplanBoxesMeet(box, q); }) &&
        !points.some(function (q) {
          var own = Math.abs(q.x - item.p.x) < 3 && Math.abs(q.y - item.p.y) < 3;
          return !own && coverplanBoxesMeet(box, q);
        });
      if (free) { chosen = c; }
      return free;
    });
    if (chosen) {
      el.style.marginLeft = chosen[1] + 'px';
      placed.push(chosen[0]);
    } else {
      el.classList.add('cp-label-hidden');
    }
  });
}

function coverplanZoomLabels(map) {  // names shown from COVERPLAN_LABEL_ZOOM on: a class on the map's container
  if (map._coverplanLabels) { return; }
  map._coverplanLabels = true;
  function toggle() {
    var near = map.getZoom() >= COVERPLAN_LABEL_ZOOM;
    (near ? L.DomUtil.addClass : L.DomUtil.removeClass)(map.getContainer(), 'cp-zoom-labels');
    if (near) {  // after the event's other handlers: the labels and markers are where this view puts them
      clearTimeout(map._coverplanDeclutter);
      map._coverplanDeclutter = setTimeout(function () { coverplanDeclutter(map); }, 0);
    }
  }
  map.on('zoomend moveend overlayadd overlayremove resize', toggle);
  map.whenReady(function () { setTimeout(toggle, 0); });
}

function coverplanLayer(key, data, map) {
  if (COVERPLAN_LABELLED[key]) { coverplanZoomLabels(map); }
  var layer = L.geoJSON(data, {
    pointToLayer: coverplanPoint,
    style: function (f) { return f.properties.style || {}; },
    onEachFeature: function (f, lyr) {
      lyr.bindPopup(function () { return coverplanPopup(f.properties); }, window.coverplanPopupOptions);
      if (COVERPLAN_LABELLED[key] && f.properties.title) {  // text, never HTML: a name is data
        var name = document.createElement('span');
        name.textContent = f.properties.title;
        lyr.bindTooltip(name, {permanent: true, direction: 'right', offset: [6, 0], className: 'cp-label'});
        lyr.on('mouseover', function () {  // a label hidden to keep clear of others shows while pointed at
          var el = lyr.getTooltip().getElement();
          if (el) { el.classList.add('cp-label-hover'); }
        });
        lyr.on('mouseout', function () {
          var el = lyr.getTooltip().getElement();
          if (el) { el.classList.remove('cp-label-hover'); }
        });
      }
      if (f.properties.search) {
        window.coverplanIndex.push({name: f.properties.title, id: f.properties.search, tag: f.properties.tag,
                                    layer: lyr, group: key});
      }
    }
  });
  window.coverplanLayers[key] = layer;
  return layer;
}

function coverplanSearch(map, placeholder, noMatch) {
  var ctl = L.control({position: 'topleft'});
  ctl.onAdd = function () {
    var box = L.DomUtil.create('div', 'cp-search leaflet-bar');
    var input = L.DomUtil.create('input', '', box);
    input.type = 'search';
    input.placeholder = placeholder;
    var list = L.DomUtil.create('ul', '', box);
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);
    input.addEventListener('input', function () {
      while (list.firstChild) { list.removeChild(list.firstChild); }
      var q = input.value.trim().toLowerCase();
      if (!q) { return; }
      var hits = window.coverplanIndex.filter(function (e) {
        return String(e.name).toLowerCase().indexOf(q) >= 0 || String(e.id).toLowerCase().indexOf(q) >= 0;
      }).slice(0, 12);
      if (!hits.length) {
        var none = document.createElement('li');
        none.className = 'cp-none';
        none.textContent = noMatch;
        list.appendChild(none);
      }
      hits.forEach(function (e) {
        var li = document.createElement('li');
        li.textContent = e.name + ' (' + e.id + ')' + (e.tag ? ' \u00b7 ' + e.tag : '');
        li.addEventListener('click', function () {
          var group = window.coverplanLayers[e.group];
          if (group && !map.hasLayer(group)) { map.addLayer(group); }
          var ll = e.layer.getLatLng ? e.layer.getLatLng() : e.layer.getBounds().getCenter();
          map.once('moveend', function () {  // a zoom still animating when the popup opened: bring it into view
            var popup = e.layer.getPopup();
            if (popup && popup.isOpen()) { popup.update(); }
          });
          map.setView(ll, Math.max(map.getZoom(), 13));
          e.layer.openPopup(ll);
        });
        list.appendChild(li);
      });
    });
    return box;
  };
  ctl.addTo(map);
  return ctl;
}

function coverplanControl(map, position, cssClass, content, isHtml) {
  // content is coverplan's own escaped legend HTML (isHtml) or a text from input (a title): set as textContent
  var ctl = L.control({position: position});
  ctl.onAdd = function () {
    var div = L.DomUtil.create('div', cssClass);
    if (isHtml) { div.innerHTML = content; } else { div.textContent = content; }
    L.DomEvent.disableScrollPropagation(div);
    return div;
  };
  ctl.addTo(map);
  return ctl;
}

function coverplanTileFallback(map, base, tiles, local, note, waitMs) {
  // Online tiles that cannot load (no network, an intranet): the local hillshade instead, and a visible note.
  var loaded = false, failed = 0, done = false;
  function fallback() {
    if (done || loaded) { return; }
    done = true;
    if (map.hasLayer(base)) { map.removeLayer(base); }
    if (local && !map.hasLayer(local)) { map.addLayer(local); }
    var ctl = L.control({position: 'topleft'});
    ctl.onAdd = function () {
      var div = L.DomUtil.create('div', 'coverplan-note');
      div.setAttribute('role', 'status');
      var text = document.createElement('span');
      text.textContent = note;
      var close = document.createElement('button');
      close.type = 'button';
      close.className = 'cp-close';
      close.textContent = '\u00d7';
      close.setAttribute('aria-label', 'close');
      close.addEventListener('click', function () { ctl.remove(); });
      div.appendChild(text);
      div.appendChild(close);
      L.DomEvent.disableClickPropagation(div);
      return div;
    };
    ctl.addTo(map);
    window.coverplanTilesFailed = true;
  }
  tiles.forEach(function (t) {
    t.on('tileload', function () { loaded = true; });
    t.on('tileerror', function () {
      failed += 1;
      if (failed >= 2) { fallback(); }
    });
  });
  window.setTimeout(function () { if (map.hasLayer(base)) { fallback(); } }, waitMs);
}

function coverplanPanels(map, layersTitle) {
  // The layer control and the legend stack under the title in the top-right corner: each gets a header that
  // collapses it, and their lists share the height of the window (scrolling inside), so they never overlap.
  var box = map.getContainer();
  var corner = box.querySelector('.leaflet-top.leaflet-right');
  var panels = [];
  var layers = corner && corner.querySelector('.leaflet-control-layers');
  if (layers) {
    L.DomUtil.addClass(layers, 'leaflet-control-layers-expanded');
    L.DomUtil.addClass(layers, 'cp-panel');
    var head = document.createElement('div');
    head.className = 'cp-toggle';
    head.textContent = layersTitle;
    layers.insertBefore(head, layers.firstChild);
    L.DomUtil.addClass(layers.querySelector('.leaflet-control-layers-list'), 'cp-body');
    panels.push(layers);
  }
  var legend = corner && corner.querySelector('.coverplan-legend');
  if (legend) {
    L.DomUtil.addClass(legend, 'cp-panel');
    panels.push(legend);
  }
  function bottomOf(el) { return el.getBoundingClientRect().bottom - box.getBoundingClientRect().top; }
  function sameWidth() {
    panels.forEach(function (p) { p.style.width = ''; });
    var widest = Math.max.apply(null, panels.map(function (p) { return p.getBoundingClientRect().width; }));
    panels.forEach(function (p) { p.style.width = Math.ceil(widest) + 'px'; p.style.boxSizing = 'border-box'; });
  }
  function popupRoom() {
    var left = Math.min.apply(null, panels.map(function (p) { return p.getBoundingClientRect().left; }));
    var right = box.getBoundingClientRect().right;
    window.coverplanPopupOptions.autoPanPaddingBottomRight.x = Math.max(10, Math.ceil(right - left) + 10);
  }
  function layout() {
    popupRoom();
    var open = panels.filter(function (p) { return !L.DomUtil.hasClass(p, 'cp-collapsed'); });
    var bodies = open.map(function (p) { return p.querySelector('.cp-body'); });
    bodies.forEach(function (b) { b.style.height = ''; b.style.maxHeight = 'none'; });
    if (!panels.length) { return; }
    var below = box.querySelector('.leaflet-bottom.leaflet-right');
    var limit = map.getSize().y - (below ? below.offsetHeight : 0) - 10;
    var excess = bottomOf(panels[panels.length - 1]) - limit;
    if (excess <= 0 || !bodies.length) { return; }
    var natural = bodies.map(function (b) { return b.scrollHeight; });
    var room = natural.reduce(function (a, b) { return a + b; }, 0) - excess;
    if (room < 60 * bodies.length && open.length > 1 && !legend.cpUserOpened) {
      L.DomUtil.addClass(legend, 'cp-collapsed');  // too small for both: the legend folds, its header stays
      layout();
      return;
    }
    // share the room: the layer toggles first (all they need, up to 60 %), the legend the rest (at least 40 px)
    var left = room;
    bodies.forEach(function (b, i) {
      var rest = natural.slice(i + 1).reduce(function (a, n) { return a + n; }, 0);
      var share = i === bodies.length - 1 ? left : Math.min(natural[i], Math.max(0.6 * left, left - rest));
      share = Math.max(share, 40);
      b.style.maxHeight = Math.floor(share) + 'px';
      left -= share;
    });
  }
  panels.forEach(function (p) {
    var head = p.querySelector('.cp-toggle');
    head.setAttribute('role', 'button');
    head.setAttribute('tabindex', '0');
    L.DomEvent.on(head, 'click', function (e) {
      L.DomEvent.stop(e);
      var folding = !L.DomUtil.hasClass(p, 'cp-collapsed');
      if (folding) { L.DomUtil.addClass(p, 'cp-collapsed'); } else { L.DomUtil.removeClass(p, 'cp-collapsed'); }
      if (p === legend) { legend.cpUserOpened = !folding; }
      layout();
    });
  });
  map.on('resize', layout);
  window.addEventListener('load', function () { sameWidth(); layout(); });
  sameWidth();
  layout();
  window.coverplanLayout = layout;
  return layout;
}
