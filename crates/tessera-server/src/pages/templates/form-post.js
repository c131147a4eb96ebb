// Submits the form_post form as soon as the page loads; the button stays for no-JS browsers.
document.getElementById("form-post").submit();
