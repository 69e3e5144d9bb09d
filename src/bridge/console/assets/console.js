// The console's one script (docs/console.md). Every page works without it; with it:
// - an element with data-events follows that job's event stream (GET /v1/jobs/{jobId}/events,
//   EventSource; the browser resumes with Last-Event-ID by itself): each phase, step and Argo
//   phase is added to the list as it happens, the status is updated and announced, and when a job
//   that was running ends, the page's <main> is read again once (its result, its actions);
// - times are shown in the reader's own time zone.
// No polling, nothing inline (the Content-Security-Policy allows this file only), no framework.

start(document);

function start(root) {
  localizeTimes(root);
  const element = root.querySelector('[data-events]');
  if (element !== null) follow(element);
}

function follow(element) {
  const list = element.tagName === 'OL' ? element : null;
  const argoUrl = element.dataset.argoUrl ?? '';
  const wasFinal = element.dataset.final === 'true';
  const source = new EventSource(element.dataset.events);
  const on = (type, handle) => source.addEventListener(type, (event) => handle(JSON.parse(event.data)));

  on('phase', (data) => add(list, `Phase: ${data.phase}`, data.at));
  on('step', (data) => {
    const details = [];
    if (typeof data.exitCode === 'number') details.push(`exit code ${data.exitCode}`);
    if (data.timedOut === true) details.push('timed out');
    if (typeof data.durationMs === 'number') details.push(`${(data.durationMs / 1000).toFixed(1)} s`);
    const suffix = details.length > 0 ? ` (${details.join(', ')})` : '';
    add(list, `Step ${data.index + 1}, ${data.name}: ${data.state}${suffix}`, data.at);
  });
  on('argo', (data) => {
    const item = add(
      list,
      `Argo Workflow ${data.name}: ${data.phase}${data.progress ? ` ${data.progress}` : ''}`,
      data.at,
    );
    if (item !== null && argoUrl !== '' && typeof data.namespace === 'string') {
      const link = document.createElement('a');
      link.href = `${argoUrl}workflows/${encodeURIComponent(data.namespace)}/${encodeURIComponent(data.name)}`;
      link.textContent = 'open in Argo';
      item.append(' ', link);
    }
    if (item !== null && typeof data.message === 'string') item.append(`: ${data.message}`);
  });
  on('status', (data) => {
    const badge = document.querySelector('.job-status [data-status]');
    if (badge !== null && badge.textContent !== data.status) {
      badge.textContent = data.status;
      badge.className = `status status-${tone(data.status)}`;
      announce(`The job is ${data.status.toLowerCase().replaceAll('_', ' ')}`);
    }
  });
  source.addEventListener('end', () => {
    source.close();
    if (!wasFinal) void refresh();
  });
}

function add(list, text, at) {
  if (list === null) return null;
  const item = document.createElement('li');
  item.textContent = text;
  if (typeof at === 'string') {
    const time = document.createElement('time');
    time.dateTime = at;
    time.textContent = new Date(at).toLocaleTimeString();
    item.append(' ', time);
  }
  list.append(item);
  return item;
}

function tone(status) {
  if (status === 'RUNNING') return 'running';
  if (status === 'COMPLETED') return 'ok';
  if (status === 'CANCELED') return 'muted';
  return 'bad';
}

function announce(text) {
  const live = document.getElementById('live');
  if (live !== null) live.textContent = text;
}

/** The page once more, for what only the server draws once a job has closed (its result, its actions). */
async function refresh() {
  const answer = await fetch(location.href, { headers: { accept: 'text/html' } });
  if (!answer.ok) return;
  const page = new DOMParser().parseFromString(await answer.text(), 'text/html');
  const fresh = page.querySelector('main');
  const main = document.querySelector('main');
  if (fresh === null || main === null) return;
  main.replaceWith(document.importNode(fresh, true));
  start(document.querySelector('main'));
}

function localizeTimes(root) {
  for (const element of root.querySelectorAll('time[datetime]')) {
    const date = new Date(element.dateTime);
    if (!Number.isNaN(date.getTime()) && element.dateTime.length > 10) {
      element.title = element.textContent;
      element.textContent = date.toLocaleString();
    }
  }
}
