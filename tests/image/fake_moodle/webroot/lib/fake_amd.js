// Stand-in for Moodle's AMD loader with the two modules the journey calls: core/ajax posts to
// lib/ajax/service.php, core/fetch asks the /api routes, as Moodle's own modules do.
window.require = function(names, ready, failed) {
    var modules = {
        'core/ajax': {
            call: function(calls) {
                return calls.map(function(call) {
                    return fetch('/lib/ajax/service.php?info=' + call.methodname, {
                        method: 'POST',
                        credentials: 'same-origin',
                        body: JSON.stringify([{index: 0, methodname: call.methodname, args: call.args}]),
                    }).then(function(response) { return response.json(); }).then(function(answers) {
                        return answers[0].error ? Promise.reject(answers[0].exception) : answers[0].data;
                    });
                });
            },
        },
        'core/fetch': {
            performGet: function(component, action) {
                return fetch('/api/rest/v2/' + component.replace(/^core_/, '') + '/' + action, {
                    credentials: 'same-origin',
                    headers: {Accept: 'application/json'},
                });
            },
        },
    };
    var missing = names.filter(function(name) { return !(name in modules); });
    if (missing.length) {
        failed(new Error('no module ' + missing.join(', ')));
    } else {
        ready.apply(null, names.map(function(name) { return modules[name]; }));
    }
};
