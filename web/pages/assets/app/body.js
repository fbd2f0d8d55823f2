// Runs first in <body>: tells GOV.UK Frontend's styles that JavaScript runs,
// and that the browser supports ES modules (govuk-frontend-supported).
document.body.className += ' js-enabled' + ('noModule' in HTMLScriptElement.prototype ? ' govuk-frontend-supported' : '');
