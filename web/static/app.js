// gatehouse web UI. One module for every page; <body data-page="…"> names the page.
// It talks to the JSON API of the same server with the session cookie. Text that comes from
// users or from the server is always inserted with textContent.

const $ = (selector, root = document) => root.querySelector(selector);

// ------------------------------------------------------------------ API

/**
 * Call the JSON API. Resolves with {ok, status, data, retryAfter}; never rejects (a network
 * failure is status 0 with an error sentence).
 */
async function api(method, path, { json, form } = {}) {
  const init = {
    method,
    credentials: 'same-origin',
    headers: { Accept: 'application/json' },
    // The pages are served with "Referrer-Policy: no-referrer", under which a browser may send
    // "Origin: null" on a same-origin POST; the server refuses foreign origins, so make sure
    // the request carries the page's real origin.
    referrerPolicy: 'same-origin',
  };
  if (json !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(json);
  } else if (form !== undefined) {
    init.body = form; // the browser sets multipart/form-data with its boundary
  } else if (method !== 'GET' && method !== 'DELETE') {
    init.headers['Content-Type'] = 'application/json';
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    return { ok: false, status: 0, data: { error: 'Could not reach the server. Check your connection and try again.' }, retryAfter: null };
  }
  let data = {};
  try {
    const parsed = await res.json();
    if (parsed && typeof parsed === 'object') data = parsed;
  } catch {
    // Not JSON: keep the empty object and fall back to a generic sentence below.
  }
  if (!res.ok && typeof data.error !== 'string') {
    data.error = res.status >= 500
      ? 'The server ran into a problem. Please try again in a moment.'
      : `The request failed (HTTP ${res.status}).`;
  }
  return { ok: res.ok, status: res.status, data, retryAfter: res.headers.get('Retry-After') };
}

function tooManyAttempts(res) {
  const n = Number.parseInt(res.retryAfter || '', 10);
  const seconds = Number.isFinite(n) && n > 0 ? n : 60;
  return `Too many attempts, try again in ${seconds} second${seconds === 1 ? '' : 's'}.`;
}

// ------------------------------------------------------------------ forms

/** Codes whose answer has no `field` but clearly belongs to one. */
const CODE_FIELDS = {
  not_an_image: 'thumbnail',
  file_too_large: 'thumbnail',
  wrong_password: 'current_password',
  email_taken: 'email',
};

function fieldContainer(input) {
  return input && typeof input.closest === 'function' ? input.closest('.field') : null;
}

function clearErrors(form) {
  const alert = $('.form-alert', form);
  if (alert) {
    alert.replaceChildren();
    alert.hidden = true;
  }
  for (const el of form.querySelectorAll('.field-error')) el.textContent = '';
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  for (const el of form.querySelectorAll('.field.has-error')) el.classList.remove('has-error');
}

/** Show `message` under the input and mark it invalid. Returns false if there is no such field. */
function setFieldError(form, name, message) {
  const input = form.elements.namedItem(name);
  const box = fieldContainer(input);
  const slot = box && $('.field-error', box);
  if (!slot) return false;
  slot.textContent = message;
  box.classList.add('has-error');
  input.setAttribute('aria-invalid', 'true');
  return true;
}

/** Show `message` (plus optional extra nodes, e.g. a link) at the top of the form. */
function setFormError(form, message, ...extra) {
  const alert = $('.form-alert', form);
  const p = document.createElement('p');
  p.textContent = message;
  alert.replaceChildren(p, ...extra);
  alert.hidden = false;
}

function focusFirstError(form) {
  const invalid = form.querySelector('[aria-invalid="true"]');
  if (invalid) invalid.focus();
}

/** Route an API error to the field the server named, else to the top of the form. */
function showApiError(form, res, { aliases = {}, extra = [] } = {}) {
  if (res.status === 429) {
    setFormError(form, tooManyAttempts(res));
    return;
  }
  const { error, code } = res.data;
  let field = typeof res.data.field === 'string' ? res.data.field : CODE_FIELDS[code];
  if (!field && typeof code === 'string' && code.startsWith('invalid_')) field = code.slice('invalid_'.length);
  if (field && aliases[field]) field = aliases[field];
  if (field && setFieldError(form, field, error)) {
    focusFirstError(form);
    return;
  }
  setFormError(form, error, ...extra);
}

/** Client-side check: every `required` input must be filled. Returns true when all are. */
function checkRequired(form) {
  let ok = true;
  for (const input of form.querySelectorAll('input[required]')) {
    if (input.value.trim() !== '') continue;
    const label = form.querySelector(`label[for="${input.id}"]`);
    const what = label ? label.textContent.trim().toLowerCase() : 'this field';
    setFieldError(form, input.name, `Enter your ${what}.`);
    ok = false;
  }
  if (!ok) focusFirstError(form);
  return ok;
}

/**
 * Run `work` while the form's submit button is disabled and shows progress. A second submit
 * while one is running is ignored. When `work` resolves with LEAVING (the page is navigating
 * away) the button stays busy.
 */
const LEAVING = Symbol('leaving');

async function whileBusy(form, button, work) {
  if (form.dataset.busy === 'true') return undefined;
  form.dataset.busy = 'true';
  form.setAttribute('aria-busy', 'true');
  const label = button.textContent;
  const hadFocus = document.activeElement === button;
  button.disabled = true;
  button.classList.add('is-busy');
  button.textContent = button.dataset.busyText || 'Working…';
  let result;
  try {
    result = await work();
  } finally {
    if (result !== LEAVING) {
      button.disabled = false;
      button.classList.remove('is-busy');
      button.textContent = label;
      form.dataset.busy = 'false';
      form.removeAttribute('aria-busy');
      if (hadFocus && (document.activeElement === document.body || document.activeElement === null)) button.focus();
    }
  }
  return result;
}

/**
 * Wire a form: on submit, clear old errors, run the client checks (required fields, then
 * `validate(form)`), then `submit(form)` while busy. `submit` shows its own errors with the
 * helpers above, and returns LEAVING when it navigates away.
 */
function onSubmit(form, submit, { validate } = {}) {
  const button = form.querySelector('button[type="submit"]');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (form.dataset.busy === 'true') return;
    clearErrors(form);
    if (!checkRequired(form)) return;
    if (validate && !validate(form)) {
      focusFirstError(form);
      return;
    }
    whileBusy(form, button, () => submit(form));
  });
}

function value(form, name) {
  const el = form.elements.namedItem(name);
  return el ? el.value : '';
}

function link(href, text) {
  const a = document.createElement('a');
  a.href = href;
  a.textContent = text;
  return a;
}

function paragraph(...children) {
  const p = document.createElement('p');
  p.append(...children);
  return p;
}

/** Show/hide buttons next to password inputs (native buttons: Space and Enter work). */
function setUpPasswordToggles(root = document) {
  for (const button of root.querySelectorAll('.pw-toggle')) {
    const input = document.getElementById(button.getAttribute('aria-controls'));
    if (!input) continue;
    button.addEventListener('click', () => {
      const show = input.type === 'password';
      input.type = show ? 'text' : 'password';
      button.setAttribute('aria-pressed', String(show));
      button.textContent = show ? 'Hide' : 'Show';
    });
  }
}

/** Put every password field back to hidden (before a password manager reads the submit). */
function hidePasswords(form) {
  for (const button of form.querySelectorAll('.pw-toggle[aria-pressed="true"]')) button.click();
}

function queryParam(name) {
  return new URLSearchParams(window.location.search).get(name);
}

// ------------------------------------------------------------------ formatting

const dateTimeFormat = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' });
const thisYearFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' });
const longDateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'long' });

/** A moment in local time; the year is left out when it is this year. */
function formatDateTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso || '');
  return (d.getFullYear() === new Date().getFullYear() ? thisYearFormat : dateTimeFormat).format(d);
}

function formatDate(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso || '') : longDateFormat.format(d);
}

/** A YYYY-MM-DD calendar date in words, without moving it through a time zone. */
function formatCalendarDate(ymd) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(ymd || '');
  if (!m) return ymd || '';
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return new Intl.DateTimeFormat(undefined, { dateStyle: 'long', timeZone: 'UTC' }).format(d);
}

/** "Chrome 126 on macOS" from a User-Agent header; something short for anything else. */
function describeAgent(ua) {
  if (!ua) return 'Unknown device';
  let browser = null;
  let m;
  if ((m = /Edg(?:e|A|iOS)?\/(\d+)/.exec(ua))) browser = `Edge ${m[1]}`;
  else if ((m = /OPR\/(\d+)/.exec(ua))) browser = `Opera ${m[1]}`;
  else if ((m = /(?:Firefox|FxiOS)\/(\d+)/.exec(ua))) browser = `Firefox ${m[1]}`;
  else if ((m = /HeadlessChrome\/(\d+)/.exec(ua))) browser = `Headless Chrome ${m[1]}`;
  else if ((m = /(?:Chrome|CriOS|Chromium)\/(\d+)/.exec(ua))) browser = `Chrome ${m[1]}`;
  else if (/Safari\//.test(ua) && (m = /Version\/(\d+)/.exec(ua))) browser = `Safari ${m[1]}`;
  let os = null;
  if (/iPhone/.test(ua)) os = 'iPhone';
  else if (/iPad/.test(ua)) os = 'iPad';
  else if (/Android/.test(ua)) os = 'Android';
  else if (/Windows/.test(ua)) os = 'Windows';
  else if (/Mac OS X|Macintosh/.test(ua)) os = 'macOS';
  else if (/CrOS/.test(ua)) os = 'ChromeOS';
  else if (/Linux/.test(ua)) os = 'Linux';
  if (browser && os) return `${browser} on ${os}`;
  if (browser) return browser;
  if (os) return `Browser on ${os}`;
  const first = ua.trim().split(/[\s(;]/)[0];
  return (first || ua).slice(0, 40);
}

/** "ada" for https://github.com/ada, else the link without its scheme. */
function shortLink(url) {
  const m = /^https:\/\/(?:www\.)?github\.com\/([^/?#]+)\/?$/i.exec(url);
  return m ? m[1] : url.replace(/^https:\/\/(www\.)?/, '');
}

function initials(user) {
  const pick = (s) => (s || '').trim().charAt(0);
  const text = (pick(user.first_name) + pick(user.last_name)) || pick(user.email) || '?';
  return text.toUpperCase();
}

function fullName(user) {
  return [user.first_name, user.last_name].filter((s) => s && s.trim()).join(' ') || user.email;
}

// ------------------------------------------------------------------ sign-in providers

/** The providers of GET /oauth/providers: [{name, display_name, login_url}], [] on any failure. */
async function fetchProviders() {
  const res = await api('GET', '/oauth/providers');
  return res.ok && Array.isArray(res.data.providers) ? res.data.providers : [];
}

/** A "Continue with …" link under the form for each provider, landing on / after the login. */
async function showProviderButtons() {
  const items = [];
  for (const p of await fetchProviders()) {
    let url;
    try {
      url = new URL(p.login_url, window.location.href);
    } catch {
      continue;
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') continue;
    url.searchParams.set('next', '/');
    const a = link(url.href, `Continue with ${p.display_name || p.name}`);
    a.className = 'btn btn-secondary btn-block';
    const li = document.createElement('li');
    li.append(a);
    items.push(li);
  }
  if (!items.length) return;
  $('#provider-list').replaceChildren(...items);
  $('#providers').hidden = false;
}

// ------------------------------------------------------------------ pages

const pages = {};

pages.login = () => {
  showProviderButtons();
  const form = $('#login-form');
  const presetEmail = queryParam('email');
  if (presetEmail) form.elements.email.value = presetEmail;
  onSubmit(form, async () => {
    const email = value(form, 'email').trim();
    const res = await api('POST', '/users/login/', { json: { email, password: value(form, 'password') } });
    if (res.ok) {
      hidePasswords(form);
      window.location.assign('/');
      return LEAVING;
    }
    if (res.status === 403 && res.data.code === 'inactive') {
      setFormError(form, res.data.error,
        paragraph(link(`/auth/regenerate-token?email=${encodeURIComponent(email)}`, 'Send a new confirmation link')));
      return;
    }
    // Wrong credentials are not about one field: the message goes to the top.
    if (res.data.code === 'invalid_credentials') {
      setFormError(form, res.data.error);
      return;
    }
    showApiError(form, res);
  });
};

pages.register = () => {
  showProviderButtons();
  const form = $('#register-form');
  onSubmit(form, async () => {
    const email = value(form, 'email').trim();
    const res = await api('POST', '/users/register/', {
      json: {
        first_name: value(form, 'first_name').trim(),
        last_name: value(form, 'last_name').trim(),
        email,
        password: value(form, 'password'),
      },
    });
    if (res.ok) {
      hidePasswords(form);
      window.location.assign(`/auth/confirming?email=${encodeURIComponent(email)}`);
      return LEAVING;
    }
    showApiError(form, res);
    if (res.data.code === 'email_taken') {
      const slot = $('#email-error');
      slot.append(' ', link('/auth/login', 'Log in'), ' or ', link('/auth/password/request-change', 'reset your password'), '.');
    }
  });
};

pages.confirming = () => {
  const email = queryParam('email');
  if (!email) return;
  const text = $('#confirming-text');
  const strong = document.createElement('strong');
  strong.textContent = email;
  text.replaceChildren('We sent a message to ', strong, '. Open the link in it to continue.');
  $('#resend-link').href = `/auth/regenerate-token?email=${encodeURIComponent(email)}`;
};

pages.confirmed = () => {};

pages['regenerate-token'] = () => {
  const reason = queryParam('reason');
  if (reason) {
    const box = $('#reason');
    box.textContent = reason;
    box.hidden = false;
  }
  const form = $('#regenerate-form');
  const presetEmail = queryParam('email');
  if (presetEmail) form.elements.email.value = presetEmail;
  onSubmit(form, async () => {
    const res = await api('POST', '/users/regenerate-token/', { json: { email: value(form, 'email').trim() } });
    if (!res.ok) {
      showApiError(form, res);
      return;
    }
    form.hidden = true;
    const done = $('#regenerate-done');
    done.textContent = 'If an unconfirmed account exists for that address, a new confirmation link is on its way. Check your inbox.';
    done.hidden = false;
    done.tabIndex = -1;
    done.focus();
  });
};

pages.error = () => {
  const reason = queryParam('reason');
  if (reason) $('#reason').textContent = reason;
};

pages['request-change'] = () => {
  const form = $('#request-form');
  const presetEmail = queryParam('email');
  if (presetEmail) form.elements.email.value = presetEmail;
  onSubmit(form, async () => {
    const res = await api('POST', '/users/password-change/request-password-change/', { json: { email: value(form, 'email').trim() } });
    if (!res.ok) {
      showApiError(form, res);
      return;
    }
    form.hidden = true;
    const done = $('#request-done');
    done.replaceChildren(
      paragraph('If an account exists for that address, we have sent it a link to choose a new password. The link is valid for 30 minutes.'),
      paragraph('Nothing arrived? Check your spam folder, or ', link('/auth/password/request-change', 'try again'), '.'),
    );
    done.hidden = false;
    done.tabIndex = -1;
    done.focus();
  });
};

pages['change-password'] = () => {
  const form = $('#reset-form');
  const token = queryParam('token');
  const expired = () => paragraph(link('/auth/password/request-change', 'Request a new link'));
  if (!token) {
    setFormError(form, 'This page needs the link from your password reset email.', expired());
  }
  onSubmit(form, async () => {
    const res = await api('POST', '/users/password-change/change-user-password/', {
      json: { token: token || '', password: value(form, 'password') },
    });
    if (res.ok) {
      hidePasswords(form);
      form.reset();
      form.hidden = true;
      const done = $('#reset-done');
      done.hidden = false;
      done.tabIndex = -1;
      done.focus();
      return;
    }
    if (res.data.code === 'invalid_token' || res.data.field === 'token') {
      setFormError(form, 'This password reset link has expired or was already used. Links are valid for a limited time and work once.', expired());
      return;
    }
    showApiError(form, res);
  }, {
    validate: (f) => {
      if (value(f, 'password') === value(f, 'password_confirm')) return true;
      setFieldError(f, 'password_confirm', 'The two passwords do not match.');
      return false;
    },
  });
};

// ------------------------------------------------------------------ the profile page

pages.home = () => {
  const show = (id) => {
    for (const section of ['loading', 'signed-out', 'load-error', 'signed-in']) $(`#${section}`).hidden = section !== id;
  };

  async function load() {
    show('loading');
    const res = await api('GET', '/users/current-user/');
    if (res.status === 401) {
      document.title = 'Welcome · gatehouse';
      show('signed-out');
      return;
    }
    if (!res.ok) {
      $('#load-error-text').textContent = res.status === 429 ? tooManyAttempts(res) : res.data.error;
      show('load-error');
      return;
    }
    renderUser(res.data, { fillForm: true });
    renderProviders(res.data);
    show('signed-in');
    loadSessions();
  }

  $('#retry').addEventListener('click', load);

  // -------------------------------------------------------------- profile card + form

  function renderUser(user, { fillForm }) {
    document.title = `${fullName(user)} · gatehouse`;
    $('#profile-name').textContent = fullName(user);
    $('#profile-email').textContent = user.email;
    const joined = $('#fact-joined');
    joined.textContent = formatDate(user.date_joined);
    joined.dateTime = user.date_joined || '';

    const img = $('#avatar-img');
    const placeholder = $('#avatar-initials');
    placeholder.textContent = initials(user);
    if (user.thumbnail) {
      img.alt = `Profile picture of ${fullName(user)}`;
      if (img.getAttribute('src') !== user.thumbnail) img.src = user.thumbnail;
      img.hidden = false;
      placeholder.hidden = true;
    } else {
      img.removeAttribute('src');
      img.hidden = true;
      placeholder.hidden = false;
    }

    const profile = user.profile || {};
    const fact = (rowId, cellId, text) => {
      $(rowId).hidden = !text;
      $(cellId).textContent = text || '';
    };
    fact('#fact-phone-row', '#fact-phone', profile.phone_number);
    fact('#fact-birth-row', '#fact-birth', profile.birth_date ? formatCalendarDate(profile.birth_date) : '');
    const gh = $('#fact-github');
    fact('#fact-github-row', '#fact-github', profile.github_link ? shortLink(profile.github_link) : '');
    if (profile.github_link && profile.github_link.startsWith('https://')) gh.href = profile.github_link;
    else gh.removeAttribute('href');

    if (fillForm) {
      const form = $('#profile-form');
      form.elements.first_name.value = user.first_name || '';
      form.elements.last_name.value = user.last_name || '';
      form.elements.phone_number.value = profile.phone_number || '';
      form.elements.birth_date.value = profile.birth_date || '';
      form.elements.github_link.value = profile.github_link || '';
    }
  }

  $('#avatar-img').addEventListener('error', () => {
    // A thumbnail that cannot be loaded falls back to the initials.
    $('#avatar-img').hidden = true;
    $('#avatar-initials').hidden = false;
  });

  const profileForm = $('#profile-form');
  const fileInput = profileForm.elements.thumbnail;
  const preview = $('#thumbnail-preview');
  let previewUrl = null;
  const clearPreview = () => {
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = null;
    preview.removeAttribute('src');
    preview.hidden = true;
  };
  preview.addEventListener('error', () => { preview.hidden = true; });
  fileInput.addEventListener('change', () => {
    clearPreview();
    const file = fileInput.files && fileInput.files[0];
    if (!file) return;
    previewUrl = URL.createObjectURL(file);
    preview.src = previewUrl;
    preview.hidden = false;
  });
  // today's date in local time as the latest valid birth date
  {
    const now = new Date();
    const pad = (n) => String(n).padStart(2, '0');
    profileForm.elements.birth_date.max = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
    profileForm.elements.birth_date.min = '1900-01-01';
  }

  const profileStatus = $('#profile-status');
  onSubmit(profileForm, async () => {
    profileStatus.textContent = '';
    const data = new FormData();
    for (const name of ['first_name', 'last_name', 'phone_number', 'birth_date', 'github_link']) {
      data.append(name, value(profileForm, name).trim());
    }
    const file = fileInput.files && fileInput.files[0];
    if (file) data.append('thumbnail', file, file.name);
    const res = await api('PATCH', '/users/update-user/', { form: data });
    if (res.status === 401) {
      load();
      return;
    }
    if (!res.ok) {
      if (res.status === 413 && !res.data.field) res.data.field = 'thumbnail';
      showApiError(profileForm, res);
      return;
    }
    fileInput.value = '';
    clearPreview();
    renderUser(res.data, { fillForm: true });
    profileStatus.textContent = 'Profile saved.';
  });

  // -------------------------------------------------------------- sessions

  const sessionsList = $('#sessions-list');
  const sessionsAlert = $('#sessions-alert');
  const sessionsStatus = $('#sessions-status');

  function sessionsError(message) {
    sessionsAlert.textContent = message;
    sessionsAlert.hidden = false;
  }

  async function loadSessions() {
    const res = await api('GET', '/users/sessions/');
    if (res.status === 401) {
      load();
      return;
    }
    if (!res.ok) {
      sessionsError(res.status === 429 ? tooManyAttempts(res) : res.data.error);
      return;
    }
    sessionsAlert.hidden = true;
    const sessions = Array.isArray(res.data.sessions) ? res.data.sessions : [];
    sessionsList.replaceChildren(...sessions.map(renderSession));
  }

  function renderSession(s) {
    const li = document.createElement('li');
    li.className = 'session';
    if (s.current) li.classList.add('is-current');
    li.dataset.sessionId = s.id;

    const body = document.createElement('div');
    body.className = 'session-body';
    const title = document.createElement('p');
    title.className = 'session-title';
    const device = document.createElement('span');
    device.textContent = describeAgent(s.user_agent);
    if (s.user_agent) device.title = s.user_agent;
    title.append(device);
    if (s.current) {
      const badge = document.createElement('span');
      badge.className = 'badge';
      badge.textContent = 'This device';
      title.append(' ', badge);
    }
    const meta = document.createElement('p');
    meta.className = 'session-meta';
    const part = (...children) => {
      const span = document.createElement('span');
      span.append(...children);
      return span;
    };
    const sep = () => {
      const span = document.createElement('span');
      span.className = 'sep';
      span.setAttribute('aria-hidden', 'true');
      span.textContent = '·';
      return span;
    };
    meta.append(
      part(s.ip ? `IP ${s.ip}` : 'IP unknown'), ' ', sep(), ' ',
      part('Signed in ', timeElement(s.created_at)), ' ', sep(), ' ',
      part('Last seen ', timeElement(s.last_seen_at || s.created_at)),
    );
    body.append(title, meta);
    li.append(body);

    if (!s.current) {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'btn btn-danger-quiet btn-small';
      button.textContent = 'Revoke';
      button.setAttribute('aria-label', `Revoke session: ${describeAgent(s.user_agent)}, ${s.ip || 'unknown IP'}`);
      button.addEventListener('click', () => revoke(s, button));
      li.append(button);
    }
    return li;
  }

  function timeElement(iso) {
    const t = document.createElement('time');
    t.dateTime = iso || '';
    t.textContent = formatDateTime(iso);
    return t;
  }

  async function revoke(session, button) {
    sessionsStatus.textContent = '';
    sessionsAlert.hidden = true;
    button.disabled = true;
    button.textContent = 'Revoking…';
    const res = await api('DELETE', `/users/sessions/${encodeURIComponent(session.id)}/`);
    if (res.status === 401) {
      load();
      return;
    }
    if (!res.ok && res.status !== 404) {
      button.disabled = false;
      button.textContent = 'Revoke';
      sessionsError(res.status === 429 ? tooManyAttempts(res) : res.data.error);
      return;
    }
    await loadSessions();
    sessionsStatus.textContent = res.ok ? 'Session revoked.' : 'That session had already ended.';
    $('#sessions-title').focus();
  }
  $('#sessions-title').tabIndex = -1;

  // -------------------------------------------------------------- sign-in providers

  const providersCard = $('#providers-card');
  const linkedList = $('#linked-list');
  const providersStatus = $('#providers-status');
  const configured = fetchProviders();
  let accountEmail = '';

  /** The linked providers of user, by display name, each with its Unlink button. The card shows
   * when providers are configured or linked. */
  async function renderProviders(user) {
    accountEmail = user.email;
    const names = new Map((await configured).map((p) => [p.name, p.display_name || p.name]));
    const linked = Array.isArray(user.providers) ? user.providers : [];
    linkedList.replaceChildren(...linked.map((name) => renderLinked(name, names.get(name) || name)));
    $('#linked-none').hidden = linked.length > 0;
    providersCard.hidden = names.size === 0 && linked.length === 0;
  }

  function renderLinked(name, displayName) {
    const li = document.createElement('li');
    li.className = 'session linked-provider';
    li.dataset.provider = name;
    const body = document.createElement('div');
    body.className = 'session-body';
    const title = document.createElement('p');
    title.className = 'session-title';
    const label = document.createElement('span');
    label.textContent = displayName;
    const badge = document.createElement('span');
    badge.className = 'badge';
    badge.textContent = 'Linked';
    title.append(label, ' ', badge);
    // the error of this button, next to it
    const error = document.createElement('p');
    error.className = 'field-error';
    error.id = `unlink-${name}-error`;
    body.append(title, error);
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'btn btn-danger-quiet btn-small';
    button.textContent = 'Unlink';
    button.setAttribute('aria-label', `Unlink ${displayName}`);
    button.setAttribute('aria-describedby', error.id);
    button.addEventListener('click', () => unlinkProvider(name, displayName, button, error));
    li.append(body, button);
    return li;
  }

  async function unlinkProvider(name, displayName, button, error) {
    providersStatus.textContent = '';
    error.replaceChildren();
    error.removeAttribute('role');
    button.disabled = true;
    button.textContent = 'Unlinking…';
    const res = await api('DELETE', `/users/providers/${encodeURIComponent(name)}/`);
    if (res.status === 401) {
      load();
      return;
    }
    if (!res.ok && res.status !== 404) {
      button.disabled = false;
      button.textContent = 'Unlink';
      error.setAttribute('role', 'alert');
      error.append(res.status === 429 ? tooManyAttempts(res) : res.data.error);
      if (res.data.code === 'last_login_method') {
        error.append(' ', link(`/auth/password/request-change?email=${encodeURIComponent(accountEmail)}`, 'Get a link to set one'), '.');
      }
      button.focus();
      return;
    }
    const me = await api('GET', '/users/current-user/');
    if (me.ok) await renderProviders(me.data);
    providersStatus.textContent = res.ok ? `${displayName} is no longer linked.` : `${displayName} was not linked.`;
    $('#providers-title').focus();
  }
  $('#providers-title').tabIndex = -1;

  // -------------------------------------------------------------- password

  const passwordForm = $('#password-form');
  const passwordStatus = $('#password-status');
  onSubmit(passwordForm, async () => {
    passwordStatus.textContent = '';
    const res = await api('POST', '/users/change-password/', {
      json: { current_password: value(passwordForm, 'current_password'), new_password: value(passwordForm, 'new_password') },
    });
    if (res.status === 401 && res.data.code === 'not_authenticated') {
      load();
      return;
    }
    if (!res.ok) {
      showApiError(passwordForm, res);
      return;
    }
    hidePasswords(passwordForm);
    passwordForm.reset();
    passwordStatus.textContent = 'Password changed. Your other sessions were signed out.';
    loadSessions();
  }, {
    validate: (f) => {
      if (value(f, 'new_password') === value(f, 'new_password_confirm')) return true;
      setFieldError(f, 'new_password_confirm', 'The two passwords do not match.');
      return false;
    },
  });

  // -------------------------------------------------------------- log out

  const logoutButton = $('#logout');
  logoutButton.addEventListener('click', async () => {
    $('#logout-error').textContent = '';
    logoutButton.disabled = true;
    logoutButton.classList.add('is-busy');
    logoutButton.textContent = logoutButton.dataset.busyText;
    const res = await api('POST', '/users/logout/');
    if (res.ok || res.status === 401) {
      window.location.assign('/auth/login');
      return;
    }
    logoutButton.disabled = false;
    logoutButton.classList.remove('is-busy');
    logoutButton.textContent = 'Log out';
    $('#logout-error').textContent = res.status === 429 ? tooManyAttempts(res) : res.data.error;
  });

  load();
};

// ------------------------------------------------------------------ start

setUpPasswordToggles();
const start = pages[document.body.dataset.page];
if (start) start();
