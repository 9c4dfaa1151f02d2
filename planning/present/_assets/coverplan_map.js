/* coverplan map helpers: markers, popups and search built with DOM nodes and textContent, so names from
   input data are never parsed as HTML. Layers register themselves in window.coverplanLayers. */
window.coverplanLayers = window.coverplanLayers || {};
window.coverplanIndex = window.coverplanIndex || [];

function coverplanPopup(p) {
  var div = document.createElement('div');
  div.className = 'cp-popup';
  var h = document.createElement('div');
  h.className = 'cp-popup-title';
  h.textContent = p.title;
  div.appendChild(h);
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

function coverplanPoint(f, latlng) {
  var m = f.properties.marker || {};
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

function coverplanLayer(key, data, map) {
  var layer = L.geoJSON(data, {
    pointToLayer: coverplanPoint,
    style: function (f) { return f.properties.style || {}; },
    onEachFeature: function (f, lyr) {
      lyr.bindPopup(function () { return coverplanPopup(f.properties); });
      if (f.properties.search) {
        window.coverplanIndex.push({name: f.properties.title, id: f.properties.search, layer: lyr, group: key});
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
        li.textContent = e.name + ' (' + e.id + ')';
        li.addEventListener('click', function () {
          var group = window.coverplanLayers[e.group];
          if (group && !map.hasLayer(group)) { map.addLayer(group); }
          var ll = e.layer.getLatLng ? e.layer.getLatLng() : e.layer.getBounds().getCenter();
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
