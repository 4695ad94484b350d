for (const d of document.querySelectorAll('details')) d.open = true;
const out = [];
let n = 0;
for (const svg of document.querySelectorAll('svg.ladder')) {
  const s = svg.getBoundingClientRect();
  const tl = [...svg.querySelectorAll('line[stroke-width="3"]')].map(l => l.getBoundingClientRect());
  const boxes = [...svg.querySelectorAll('g.label')].map(g => ({r: g.getBoundingClientRect(), t: g.textContent.slice(0, 60)}));
  n += boxes.length;
  boxes.forEach((a, i) => {
    if (a.r.left < s.left - 0.5 || a.r.right > s.right + 0.5) out.push('beyond the svg: ' + a.t + ' ' + a.r.left + '..' + a.r.right + ' of ' + s.left + '..' + s.right);
    for (const l of tl) if (a.r.left < l.right && a.r.right > l.left && a.r.top < l.bottom && a.r.bottom > l.top) out.push('crosses a timeline: ' + a.t);
    for (let j = i + 1; j < boxes.length; j++) {
      const b = boxes[j].r;
      if (a.r.left < b.right - 0.5 && b.left < a.r.right - 0.5 && a.r.top < b.bottom - 0.5 && b.top < a.r.bottom - 0.5)
        out.push('overlap: ' + a.t + ' | ' + boxes[j].t);
    }
  });
}
const pre = document.createElement('pre');
pre.id = 'measured';
pre.textContent = 'labels ' + n + '\n' + out.join('\n');
document.body.appendChild(pre);
